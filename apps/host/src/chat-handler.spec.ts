import { getEventListeners } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChatResponseFrame } from '@app/protocol';
import { eventually } from '../../../test/support/eventually';
import { serveChat, upstreamBody, type ChatSink, type ServeChatOptions } from './chat-handler';
import { Upstream } from './upstream';

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void | Promise<void>;

/** A local model server on an ephemeral port, and an Upstream pointing at it. */
interface FakeUpstream {
  upstream: Upstream;
  server: Server;
  port: number;
  /** Request bodies received, parsed. */
  calls: Array<Record<string, unknown>>;
  /** TCP connections accepted. */
  connections: number;
  /** Responses whose client went away before they were finished. */
  closedEarly: number;
}

const servers: FakeUpstream[] = [];

async function startUpstream(handler: Handler): Promise<FakeUpstream> {
  const fake = { calls: [], connections: 0, closedEarly: 0 } as unknown as FakeUpstream;
  fake.server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      fake.calls.push(JSON.parse(body) as Record<string, unknown>);
      res.on('close', () => {
        if (!res.writableFinished) fake.closedEarly++;
      });
      void handler(req, res, body);
    });
  });
  fake.server.on('connection', () => fake.connections++);
  await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
  fake.port = (fake.server.address() as AddressInfo).port;
  fake.upstream = new Upstream({ baseUrl: `http://127.0.0.1:${fake.port}/v1` });
  servers.push(fake);
  return fake;
}

/** Answers with an event stream written as the given reads, a few ms apart (one client read each). */
function streamOf(reads: string[], options: { status?: number; contentType?: string; end?: boolean } = {}) {
  return async (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(options.status ?? 200, { 'Content-Type': options.contentType ?? 'text/event-stream' });
    res.flushHeaders();
    for (const r of reads) {
      await delay(10);
      if (res.destroyed) return;
      res.write(r);
    }
    if (options.end ?? true) res.end();
  };
}

afterEach(async () => {
  for (const fake of servers.splice(0)) {
    fake.upstream.close();
    fake.server.closeAllConnections();
    await new Promise<void>((resolve) => fake.server.close(() => resolve()));
  }
});

function sink(): ChatSink & { frames: ChatResponseFrame[]; isOpen: boolean; bufferedAmount: number } {
  const frames: ChatResponseFrame[] = [];
  return { frames, isOpen: true, bufferedAmount: 0, send: (f) => (frames.push(f), true) };
}

const serve = (
  upstream: Upstream,
  s: ChatSink,
  signal = new AbortController().signal,
  extra: Partial<ServeChatOptions> = {},
) => serveChat({ requestId: 'r', request: { messages: [] }, upstream, sink: s, signal, ...extra });

describe('serveChat', () => {
  it('sends one frame per read: raw_sse for one line, raw_sse_batch for several; done rides on the last', async () => {
    const fake = await startUpstream(
      streamOf(['data: {"a":1}\n\n', 'data: {"b":2}\n\ndata: {"c', '":3}\n\ndata: [DONE]\n\n']),
    );
    const s = sink();
    expect(await serve(fake.upstream, s)).toEqual({ kind: 'done', lines: 3 });
    expect(s.frames).toEqual([
      { type: 'chat_response', request_id: 'r', raw_sse: '{"a":1}', done: false },
      { type: 'chat_response', request_id: 'r', raw_sse: '{"b":2}', done: false },
      { type: 'chat_response', request_id: 'r', raw_sse: '{"c":3}', done: true },
    ]);
    expect(fake.calls).toEqual([{ messages: [], stream: true, stream_options: { include_usage: true } }]);
  });

  it('batches the lines of one read with done and drops what follows [DONE]', async () => {
    const fake = await startUpstream(streamOf(['data: 1\n\ndata: 2\n\ndata: [DONE]\n\ndata: ignored\n\n']));
    const s = sink();
    expect(await serve(fake.upstream, s)).toEqual({ kind: 'done', lines: 2 });
    expect(s.frames).toEqual([
      { type: 'chat_response', request_id: 'r', raw_sse_batch: ['1', '2'], done: true },
    ]);
  });

  it('sends done alone when [DONE] arrives in a read of its own', async () => {
    const fake = await startUpstream(
      streamOf(['data: 1\n\ndata: 2\n\n', ': keepalive\n\n', 'data: [DONE]\n\n']),
    );
    const s = sink();
    expect(await serve(fake.upstream, s)).toEqual({ kind: 'done', lines: 2 });
    expect(s.frames).toEqual([
      { type: 'chat_response', request_id: 'r', raw_sse_batch: ['1', '2'], done: false },
      { type: 'chat_response', request_id: 'r', done: true },
    ]);
  });

  it('reports a stream that ends without [DONE] as an error, without done', async () => {
    const fake = await startUpstream(streamOf(['data: 1\n\n']));
    const s = sink();
    expect(await serve(fake.upstream, s)).toEqual({
      kind: 'error',
      message: 'upstream ended without [DONE]',
    });
    expect(s.frames).toEqual([
      { type: 'chat_response', request_id: 'r', raw_sse: '1', done: false },
      { type: 'chat_response', request_id: 'r', error: 'upstream ended without [DONE]' },
    ]);
  });

  it('accepts a final [DONE] without a trailing newline', async () => {
    const fake = await startUpstream(streamOf(['data: 1\n\ndata: [DONE]']));
    const s = sink();
    expect(await serve(fake.upstream, s)).toEqual({ kind: 'done', lines: 1 });
    expect(s.frames.at(-1)?.done).toBe(true);
    expect(s.frames.filter((f) => f.done)).toHaveLength(1);
  });

  it('turns an HTTP error into "upstream HTTP <status>: <first 500 chars>"', async () => {
    const fake = await startUpstream(
      streamOf(['x'.repeat(2000)], { status: 503, contentType: 'text/plain' }),
    );
    const s = sink();
    const outcome = await serve(fake.upstream, s);
    expect(outcome).toEqual({ kind: 'error', message: `upstream HTTP 503: ${'x'.repeat(500)}` });
    expect(s.frames).toEqual([
      { type: 'chat_response', request_id: 'r', error: `upstream HTTP 503: ${'x'.repeat(500)}` },
    ]);
  });

  it('refuses a JSON answer where a stream was asked for', async () => {
    const fake = await startUpstream((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"object":"chat.completion"}');
    });
    const s = sink();
    await serve(fake.upstream, s);
    expect(s.frames).toEqual([
      {
        type: 'chat_response',
        request_id: 'r',
        error: 'upstream answered application/json instead of an event stream: {"object":"chat.completion"}',
      },
    ]);
  });

  it('turns a refused connection into "upstream request failed: connect ECONNREFUSED …"', async () => {
    const fake = await startUpstream(() => undefined);
    await new Promise<void>((resolve) => fake.server.close(() => resolve()));
    servers.splice(servers.indexOf(fake), 1);
    const s = sink();
    const outcome = await serve(fake.upstream, s);
    const message = `upstream request failed: connect ECONNREFUSED 127.0.0.1:${fake.port}`;
    expect(outcome).toEqual({ kind: 'error', message });
    expect(s.frames).toEqual([{ type: 'chat_response', request_id: 'r', error: message }]);
    fake.upstream.close();
  });

  it('turns a connection lost mid-stream into one error frame', async () => {
    const fake = await startUpstream(async (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('data: 1\n\n');
      await delay(20);
      res.socket?.destroy();
    });
    const s = sink();
    const outcome = await serve(fake.upstream, s);
    expect(outcome).toEqual({
      kind: 'error',
      message: 'upstream connection failed: connection closed before [DONE]',
    });
    expect(s.frames).toEqual([
      { type: 'chat_response', request_id: 'r', raw_sse: '1', done: false },
      {
        type: 'chat_response',
        request_id: 'r',
        error: 'upstream connection failed: connection closed before [DONE]',
      },
    ]);
  });

  it('sends nothing and asks nothing once aborted', async () => {
    const fake = await startUpstream(streamOf(['data: 1\n\n']));
    const s = sink();
    const ac = new AbortController();
    ac.abort();
    expect(await serve(fake.upstream, s, ac.signal)).toEqual({ kind: 'aborted' });
    expect(s.frames).toEqual([]);
    await delay(20);
    expect(fake.calls).toHaveLength(0);
  });

  it('abort mid-stream: closes the upstream connection at once and sends nothing more', async () => {
    const fake = await startUpstream(streamOf(['data: 1\n\n'], { end: false }));
    const s = sink();
    const ac = new AbortController();
    const outcome = serve(fake.upstream, s, ac.signal);
    await eventually(() => s.frames.length === 1, 2000);
    ac.abort();
    expect(await outcome).toEqual({ kind: 'aborted' });
    await eventually(() => fake.closedEarly === 1, 500);
    expect(s.frames).toHaveLength(1);
    // No listener left on the signal (ours nor the request's).
    await eventually(() => getEventListeners(ac.signal, 'abort').length === 0, 500);
  });

  it('abort before the response headers: closes the upstream connection', async () => {
    const fake = await startUpstream(() => undefined); // never answers
    const s = sink();
    const ac = new AbortController();
    const outcome = serve(fake.upstream, s, ac.signal);
    await eventually(() => fake.calls.length === 1, 2000);
    ac.abort();
    expect(await outcome).toEqual({ kind: 'aborted' });
    await eventually(() => fake.closedEarly === 1, 500);
    expect(s.frames).toEqual([]);
  });

  it('a sink that closed mid-stream ends the request as aborted and closes the upstream connection', async () => {
    const fake = await startUpstream(streamOf(['data: 1\n\n', 'data: 2\n\n', 'data: 3\n\n'], { end: false }));
    const s = sink();
    const outcome = serve(fake.upstream, s);
    // Polls every 5 ms: the next frame follows 10 ms after the first.
    await eventually(() => s.frames.length === 1, 2000, 5);
    s.isOpen = false;
    expect(await outcome).toEqual({ kind: 'aborted' });
    await eventually(() => fake.closedEarly === 1, 500);
    expect(s.frames).toHaveLength(1);
  });

  it('reuses the upstream socket for sequential requests (keep-alive), also after an error answer', async () => {
    let n = 0;
    const fake = await startUpstream((req, res) => {
      if (++n === 2) {
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end('boom');
        return;
      }
      // Lines after [DONE] are drained, not left in the socket.
      void streamOf(['data: 1\n\n', 'data: [DONE]\n\ndata: after\n\n'])(req, res);
    });
    const ac = new AbortController();
    expect(await serve(fake.upstream, sink(), ac.signal)).toEqual({ kind: 'done', lines: 1 });
    await delay(20);
    expect((await serve(fake.upstream, sink(), ac.signal)).kind).toBe('error');
    await delay(20);
    expect(await serve(fake.upstream, sink(), ac.signal)).toEqual({ kind: 'done', lines: 1 });
    expect(fake.calls).toHaveLength(3);
    expect(fake.connections).toBe(1);
    expect(fake.closedEarly).toBe(0);
    await eventually(() => getEventListeners(ac.signal, 'abort').length === 0, 500);
  });

  it('sends a request again on a fresh socket when a pooled one turns out closed', async () => {
    let n = 0;
    const fake = await startUpstream((req, res) => {
      // The second request on the first connection: drop it unanswered, as a server closing an
      // idle connection at that moment would.
      if (++n === 2) {
        req.socket.destroy();
        return;
      }
      void streamOf(['data: 1\n\ndata: [DONE]\n\n'])(req, res);
    });
    expect((await serve(fake.upstream, sink())).kind).toBe('done');
    await delay(20);
    expect(await serve(fake.upstream, sink())).toEqual({ kind: 'done', lines: 1 });
    expect(fake.calls).toHaveLength(3);
    expect(fake.connections).toBe(2);
  });

  it('pauses reading while the sink is backed up and resumes once it drained', async () => {
    const fake = await startUpstream(streamOf(['data: 1\n\n', 'data: 2\n\n', 'data: 3\n\ndata: [DONE]\n\n']));
    const s = sink();
    s.bufferedAmount = 1000;
    const outcome = serve(fake.upstream, s, undefined, { highWaterMark: 100, lowWaterMark: 10 });
    await eventually(() => s.frames.length === 1, 2000);
    // The rest arrives at the socket but is not read while the sink stays above the low mark.
    await delay(100);
    s.bufferedAmount = 50;
    await delay(50);
    expect(s.frames).toHaveLength(1);
    s.bufferedAmount = 0;
    expect(await outcome).toEqual({ kind: 'done', lines: 3 });
    // The reads held back are forwarded one by one, as they came.
    expect(s.frames.slice(1)).toEqual([
      { type: 'chat_response', request_id: 'r', raw_sse: '2', done: false },
      { type: 'chat_response', request_id: 'r', raw_sse: '3', done: true },
    ]);
  });

  it('binary chunk frames: canonical reads go as the bytes read, any other read through the parser', async () => {
    const euro = Buffer.from('€');
    const reads = [
      Buffer.from('data: {"a":1}\n\ndata: {"b":"é"}\n\n'), // canonical: passed as it is
      Buffer.from('data: {"c'), // a partial event: parsed, and kept until its end
      Buffer.from('":3}\n\n'),
      Buffer.from(': keepalive\r\n\r\ndata: {"d":4}\r\n\r\n'), // CRLF and a comment: parsed
      Buffer.concat([Buffer.from('data: {"e":"'), euro.subarray(0, 1)]), // a split multi-byte character
      Buffer.concat([euro.subarray(1), Buffer.from('"}\n\n')]),
      Buffer.from('data:{"f":6}\n\ndata: {"g":7}\n\n'), // no space after `data:`: parsed
      Buffer.from('data: {"h":8}\n\ndata: [DONE]\n\ndata: ignored\n\n'), // canonical up to [DONE]
    ];
    const fake = await startUpstream(async (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.flushHeaders();
      for (const r of reads) {
        await delay(10);
        res.write(r);
      }
      res.end();
    });
    const sent: Array<{ events: string | Buffer; done: boolean }> = [];
    const s: ChatSink = {
      ...sink(),
      binaryChunks: true,
      sendEvents: (_id, events, done) => (sent.push({ events, done }), true),
    };
    expect(await serve(fake.upstream, s)).toEqual({ kind: 'done', lines: 8 });
    const text = sent
      .map((f) => (typeof f.events === 'string' ? f.events : f.events.toString('utf8')))
      .join('');
    expect(text).toBe(
      ['{"a":1}', '{"b":"é"}', '{"c":3}', '{"d":4}', '{"e":"€"}', '{"f":6}', '{"g":7}', '{"h":8}']
        .map((p) => `data: ${p}\n\n`)
        .join(''),
    );
    // Bytes as read (a Buffer) for the canonical reads only: a, b; then c, d, e, f + g; then h.
    expect(sent.map((f) => Buffer.isBuffer(f.events))).toEqual([true, false, false, false, false, true]);
    expect(sent.map((f) => f.done)).toEqual([false, false, false, false, false, true]);
  });

  it('upstreamBody forces stream, asks for usage and fills a missing model only', () => {
    const usage = { include_usage: true };
    expect(upstreamBody({ messages: [], stream: false, top_p: 1 }, 'm')).toEqual({
      messages: [],
      stream: true,
      stream_options: usage,
      top_p: 1,
      model: 'm',
    });
    expect(upstreamBody({ model: 'x' }, 'm')).toEqual({ model: 'x', stream: true, stream_options: usage });
    expect(upstreamBody({ model: '' }, undefined)).toEqual({
      model: '',
      stream: true,
      stream_options: usage,
    });
    expect(upstreamBody({ stream_options: { include_usage: false, other: 1 } })).toEqual({
      stream: true,
      stream_options: { include_usage: true, other: 1 },
    });
  });
});
