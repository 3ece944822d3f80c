import { conversationMessages, Turn } from './conversation';

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
