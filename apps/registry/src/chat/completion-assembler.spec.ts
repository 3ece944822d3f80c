import { CompletionAssembler } from './completion-assembler';

const chunk = (delta: object, extra: object = {}) =>
  JSON.stringify({
    id: 'c1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index: 0, delta, finish_reason: null }],
    ...extra,
  });

describe('CompletionAssembler', () => {
  it('joins content and keeps finish_reason and usage', () => {
    const a = new CompletionAssembler();
    a.add(chunk({ role: 'assistant', content: 'Hel' }));
    a.add(chunk({ content: 'lo' }));
    a.add(JSON.stringify({ id: 'c1', choices: [{ index: 0, delta: {}, finish_reason: 'length' }] }));
    a.add(
      JSON.stringify({
        id: 'c1',
        choices: [],
        usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 },
      }),
    );
    expect(a.result('x')).toMatchObject({
      id: 'c1',
      object: 'chat.completion',
      model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello' }, finish_reason: 'length' }],
      usage: { total_tokens: 3 },
    });
  });

  it('assembles streamed tool calls and reasoning', () => {
    const a = new CompletionAssembler();
    a.add(chunk({ reasoning_content: 'think' }));
    a.add(
      chunk({
        tool_calls: [{ index: 0, id: 't1', type: 'function', function: { name: 'get', arguments: '{"a"' } }],
      }),
    );
    a.add(chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }));
    a.add(JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] }));
    const message = (
      a.result('x').choices as Array<{ message: Record<string, unknown>; finish_reason: string }>
    )[0];
    expect(message.finish_reason).toBe('tool_calls');
    expect(message.message).toEqual({
      role: 'assistant',
      content: null,
      reasoning_content: 'think',
      tool_calls: [{ id: 't1', type: 'function', function: { name: 'get', arguments: '{"a":1}' } }],
    });
  });

  it('skips lines that are not JSON', () => {
    const a = new CompletionAssembler();
    a.add('not json');
    a.add(chunk({ content: 'ok' }));
    expect(a.skipped).toBe(1);
    expect((a.result('fallback').choices as Array<{ message: { content: string } }>)[0].message.content).toBe(
      'ok',
    );
  });
});
