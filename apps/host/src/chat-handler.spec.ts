import type { ChatResponseFrame } from '@app/protocol';
import { serveChat, upstreamBody, type ChatSink } from './chat-handler';
import type { Upstream } from './upstream';

/** An upstream whose answer is the given reads, one ReadableStream chunk each. */
function upstreamOf(reads: string[], init: ResponseInit = {}) {
  const calls: Array<Record<string, unknown>> = [];
  const upstream = {
    chatCompletions: async (body: Record<string, unknown>) => {
      calls.push(body);
      const encoder = new TextEncoder();
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (const r of reads) controller.enqueue(encoder.encode(r));
          controller.close();
        },
      });
      return new Response(stream, { headers: { 'Content-Type': 'text/event-stream' }, ...init });
    },
  } as unknown as Upstream;
  return { upstream, calls };
}

function sink(): ChatSink & { frames: ChatResponseFrame[] } {
  const frames: ChatResponseFrame[] = [];
  return { frames, isOpen: true, bufferedAmount: 0, send: (f) => (frames.push(f), true) };
}

const serve = (upstream: Upstream, s: ChatSink, signal = new AbortController().signal) =>
  serveChat({ requestId: 'r', request: { messages: [] }, upstream, sink: s, signal });

describe('serveChat', () => {
  it('sends one frame per read: raw_sse for one line, raw_sse_batch for several, then done', async () => {
    const { upstream } = upstreamOf([
      'data: {"a":1}\n\n',
      'data: {"b":2}\n\ndata: {"c',
      '":3}\n\ndata: [DONE]\n\n',
    ]);
    const s = sink();
    expect(await serve(upstream, s)).toEqual({ kind: 'done', lines: 3 });
    expect(s.frames).toEqual([
      { type: 'chat_response', request_id: 'r', raw_sse: '{"a":1}', done: false },
      { type: 'chat_response', request_id: 'r', raw_sse: '{"b":2}', done: false },
      { type: 'chat_response', request_id: 'r', raw_sse: '{"c":3}', done: false },
      { type: 'chat_response', request_id: 'r', done: true },
    ]);
  });

  it('batches the lines of one read and stops at [DONE]', async () => {
    const { upstream } = upstreamOf(['data: 1\n\ndata: 2\n\ndata: [DONE]\n\ndata: ignored\n\n']);
    const s = sink();
    await serve(upstream, s);
    expect(s.frames).toEqual([
      { type: 'chat_response', request_id: 'r', raw_sse_batch: ['1', '2'], done: false },
      { type: 'chat_response', request_id: 'r', done: true },
    ]);
  });

  it('reports a stream that ends without [DONE] as an error, without done', async () => {
    const { upstream } = upstreamOf(['data: 1\n\n']);
    const s = sink();
    expect(await serve(upstream, s)).toEqual({ kind: 'error', message: 'upstream ended without [DONE]' });
    expect(s.frames.at(-1)).toEqual({
      type: 'chat_response',
      request_id: 'r',
      error: 'upstream ended without [DONE]',
    });
    expect(s.frames.some((f) => f.done)).toBe(false);
  });

  it('accepts a final [DONE] without a trailing newline', async () => {
    const { upstream } = upstreamOf(['data: 1\n\ndata: [DONE]']);
    const s = sink();
    expect((await serve(upstream, s)).kind).toBe('done');
  });

  it('turns an HTTP error into "upstream HTTP <status>: <first 500 chars>"', async () => {
    const { upstream } = upstreamOf(['x'.repeat(2000)], { status: 503 });
    const s = sink();
    const outcome = await serve(upstream, s);
    expect(outcome.kind).toBe('error');
    expect(s.frames).toHaveLength(1);
    expect(s.frames[0].error).toBe(`upstream HTTP 503: ${'x'.repeat(500)}`);
  });

  it('refuses a JSON answer where a stream was asked for', async () => {
    const { upstream } = upstreamOf(['{"object":"chat.completion"}'], {
      headers: { 'Content-Type': 'application/json' },
    });
    const s = sink();
    await serve(upstream, s);
    expect(s.frames[0].error).toMatch(/instead of an event stream/);
  });

  it('sends nothing once aborted', async () => {
    const { upstream } = upstreamOf(['data: 1\n\n']);
    const s = sink();
    const ac = new AbortController();
    ac.abort();
    expect(await serve(upstream, s, ac.signal)).toEqual({ kind: 'aborted' });
    expect(s.frames).toEqual([]);
  });

  it('upstreamBody forces stream and fills a missing model only', () => {
    expect(upstreamBody({ messages: [], stream: false, top_p: 1 }, 'm')).toEqual({
      messages: [],
      stream: true,
      top_p: 1,
      model: 'm',
    });
    expect(upstreamBody({ model: 'x' }, 'm')).toEqual({ model: 'x', stream: true });
    expect(upstreamBody({ model: '' }, undefined)).toEqual({ model: '', stream: true });
  });
});
