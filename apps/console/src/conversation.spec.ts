import { conversationMessages, playgroundLoad, Turn } from './conversation';

const turn = (question: string, answer: string): Turn => ({
  id: 0,
  question,
  model: 'm',
  answer,
  result: null,
  stopped: false,
});

describe('playground conversation', () => {
  it('sends the system prompt, then each earlier exchange in order, then the new question', () => {
    expect(
      conversationMessages('  Be brief. ', [turn('Hi', 'Hello!'), turn('Why?', 'Because.')], 'And?'),
    ).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'Why?' },
      { role: 'assistant', content: 'Because.' },
      { role: 'user', content: 'And?' },
    ]);
  });

  it('sends no system message when the prompt is empty', () => {
    expect(conversationMessages(' ', [], 'Hi')).toEqual([{ role: 'user', content: 'Hi' }]);
  });
});

describe('playgroundLoad', () => {
  it('turns a captured request into a system prompt, earlier exchanges and the question last asked', () => {
    const request = JSON.stringify({
      model: 'm',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'one' },
        { role: 'assistant', content: 'uno' },
        { role: 'user', content: [{ type: 'text', text: 'two' }] },
      ],
    });
    expect(playgroundLoad(request)).toEqual({
      system: 'Be brief.',
      exchanges: [{ question: 'one', answer: 'uno' }],
      prompt: 'two',
    });
  });

  it('is null for what is not a chat request (e.g. a body cut at 32 KiB)', () => {
    expect(playgroundLoad('{"messages": [{"role": "us')).toBeNull();
    expect(playgroundLoad('{"prompt": "x"}')).toBeNull();
  });
});
