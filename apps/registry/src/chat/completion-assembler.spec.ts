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

const LIMIT = 1024 * 1024;

describe('CompletionAssembler', () => {
  it('joins content and keeps finish_reason and usage', () => {
    const a = new CompletionAssembler(LIMIT);
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
    const a = new CompletionAssembler(LIMIT);
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
    const a = new CompletionAssembler(LIMIT);
    a.add('not json');
    a.add(chunk({ content: 'ok' }));
    expect(a.skipped).toBe(1);
    expect((a.result('fallback').choices as Array<{ message: { content: string } }>)[0].message.content).toBe(
      'ok',
    );
  });

  describe('bounds (the host is a stranger)', () => {
    it('fails once the assembled text passes the limit, and ignores what follows', () => {
      const a = new CompletionAssembler(1_000);
      a.add(chunk({ content: 'x'.repeat(600) }));
      expect(a.failure).toBeNull();
      a.add(chunk({ reasoning_content: 'y'.repeat(600) }));
      expect(a.failure).toMatch(/larger than the 1000-byte limit.*"stream": true/);
      a.add(chunk({ content: 'more' }));
      const message = (a.result('x').choices as Array<{ message: Record<string, unknown> }>)[0].message;
      expect(message.content).toBe('x'.repeat(600));
      expect(message.reasoning_content).toBeUndefined();
    });

    it('counts tool-call names and arguments against the limit', () => {
      const a = new CompletionAssembler(100);
      for (let i = 0; i < 20; i++)
        a.add(chunk({ tool_calls: [{ index: 0, function: { arguments: '0123456789' } }] }));
      expect(a.failure).toMatch(/100-byte limit/);
    });

    it('rejects a tool-call index of 4294967294 at once instead of building a sparse array', () => {
      const a = new CompletionAssembler(LIMIT);
      const started = Date.now();
      a.add(
        chunk({ tool_calls: [{ index: 4294967294, id: 't', function: { name: 'f', arguments: '{}' } }] }),
      );
      a.result('x');
      expect(a.failure).toMatch(/tool call index outside 0\.\.127/);
      // Generous: the unbounded version walked the sparse array for minutes.
      expect(Date.now() - started).toBeLessThan(1_000);
    });

    it('rejects choice indexes that are too large, negative or fractional', () => {
      for (const index of [128, -1, 0.5]) {
        const a = new CompletionAssembler(LIMIT);
        a.add(JSON.stringify({ choices: [{ index, delta: { content: 'a' } }] }));
        expect(a.failure).toMatch(/choice index outside 0\.\.127/);
      }
    });

    it('keeps tool calls in index order whatever order they arrive in, and ignores null entries', () => {
      const a = new CompletionAssembler(LIMIT);
      a.add(JSON.stringify({ choices: [null, 3] }));
      a.add(chunk({ tool_calls: [null, { index: 5, id: 'b', function: { name: 'g', arguments: '{}' } }] }));
      a.add(chunk({ tool_calls: [{ index: 2, id: 'a', function: { name: 'f', arguments: '{}' } }] }));
      expect(a.failure).toBeNull();
      const message = (a.result('x').choices as Array<{ message: { tool_calls: Array<{ id: string }> } }>)[0]
        .message;
      expect(message.tool_calls.map((c) => c.id)).toEqual(['a', 'b']);
    });
  });
});
