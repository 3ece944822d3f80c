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

  it("counts the other endpoints' generated text: completions, Responses, Anthropic Messages", () => {
    expect(carriesTokens('{"object":"text_completion","choices":[{"index":0,"text":" once"}]}')).toBe(true);
    expect(carriesTokens('{"type":"response.output_text.delta","item_id":"m","delta":"Hel"}')).toBe(true);
    expect(
      carriesTokens('{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}'),
    ).toBe(true);
    expect(
      carriesTokens('{"type":"content_block_delta","delta":{"type":"thinking_delta","thinking":"h"}}'),
    ).toBe(true);
    expect(
      carriesTokens(
        '{"type":"content_block_delta","delta":{"type":"input_json_delta","partial_json":"{\\"a"}}',
      ),
    ).toBe(true);
    // Starts, empty blocks and nested objects named `text`/`delta` are not text.
    expect(carriesTokens('{"type":"content_block_start","content_block":{"type":"text","text":""}}')).toBe(
      false,
    );
    expect(carriesTokens('{"type":"response.created","response":{"text":{"format":{"type":"text"}}}}')).toBe(
      false,
    );
    expect(
      carriesTokens(
        '{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}}',
      ),
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
