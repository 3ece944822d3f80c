import { carriesTokens, estimatePromptTokens } from './token-estimate';

const chunk = (delta: Record<string, unknown>) =>
  JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: null }] });

describe('token estimates of a metered chat', () => {
  it('counts a chunk that carries generated text, not a role, finish or usage chunk', () => {
    expect(carriesTokens(chunk({ role: 'assistant', content: 'Hi' }))).toBe(true);
    expect(carriesTokens(chunk({ reasoning_content: 'hmm' }))).toBe(true);
    expect(carriesTokens(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"a' } }] }))).toBe(true);
    expect(carriesTokens('{"choices":[{"delta":{"content": "spaced"}}]}')).toBe(true);
    expect(carriesTokens(chunk({ role: 'assistant', content: '' }))).toBe(false);
    expect(carriesTokens(chunk({ content: null }))).toBe(false);
    expect(carriesTokens(JSON.stringify({ choices: [{ delta: {}, finish_reason: 'stop' }] }))).toBe(false);
    expect(
      carriesTokens(JSON.stringify({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 5 } })),
    ).toBe(false);
  });

  it('estimates a prompt at four characters a token, text parts included, at least one', () => {
    expect(estimatePromptTokens([{ role: 'user', content: 'hi' }])).toBe(1);
    expect(
      estimatePromptTokens([
        { role: 'system', content: 'x'.repeat(10) },
        { role: 'user', content: [{ type: 'text', text: 'y'.repeat(7) }, { type: 'image_url' }] },
      ]),
    ).toBe(5);
    expect(estimatePromptTokens([{ role: 'user', content: null }])).toBe(1);
  });
});
