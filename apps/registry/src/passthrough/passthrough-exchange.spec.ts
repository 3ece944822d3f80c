import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ChatSummary } from '../chat/chat-exchange';
import { PassthroughExchange, type PassthroughOptions } from './passthrough-exchange';

const head = (status: number, contentType: string) => JSON.stringify({ status, content_type: contentType });

/** One real HTTP exchange: the test drives the PassthroughExchange, a fetch reads what the caller gets. */
async function exchange(options: Partial<PassthroughOptions>, drive: (x: PassthroughExchange) => void) {
  let summary: ChatSummary | undefined;
  let cancelled = 0;
  const server: Server = createServer((_req, res: ServerResponse) => {
    const x = new PassthroughExchange(res, {
      requestId: 'req-1',
      shape: 'openai',
      receivedAt: performance.now(),
      firstChunkTimeoutMs: 60_000,
      idleTimeoutMs: 60_000,
      totalTimeoutMs: 60_000,
      maxBufferedBytes: 1 << 20,
      maxUsageBytes: 1 << 20,
      cancel: () => cancelled++,
      finished: (s) => (summary = s),
      ...options,
    });
    drive(x);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const body = await res.text().catch(() => '<cut>');
    return { status: res.status, type: res.headers.get('content-type'), body, summary, cancelled };
  } finally {
    server.close();
  }
}

describe('PassthroughExchange', () => {
  it("relays the model server's status, content type and body, and reads its usage", async () => {
    const result = await exchange({}, (x) => {
      x.lines([head(200, 'application/json'), '{"data":[],"usage":{"prompt_tokens":']);
      x.lines(['3}}']);
      x.done();
    });
    expect(result).toMatchObject({
      status: 200,
      type: 'application/json',
      body: '{"data":[],"usage":{"prompt_tokens":3}}',
    });
    expect(result.summary).toMatchObject({ outcome: 'completed', promptTokens: 3 });
  });

  it('passes an upstream error status through as written', async () => {
    const result = await exchange({}, (x) => {
      x.lines([head(400, 'application/json'), '{"error":{"message":"bad input"}}']);
      x.done();
    });
    expect(result).toMatchObject({ status: 400, body: '{"error":{"message":"bad input"}}' });
  });

  it("answers a failure before the head with its status, in Anthropic's shape on the Messages route", async () => {
    const result = await exchange({ shape: 'anthropic' }, (x) =>
      x.error('endpoint_not_supported', 'chat only'),
    );
    expect(result.status).toBe(501);
    expect(JSON.parse(result.body)).toEqual({
      type: 'error',
      error: { type: 'api_error', message: 'chat only' },
    });
  });

  it('ends a started event stream with an error event', async () => {
    const result = await exchange({}, (x) => {
      x.lines([head(200, 'text/event-stream'), 'data: {"text":"a"}\n\n']);
      x.error('host_disconnected', 'the host disconnected');
    });
    expect(result.status).toBe(200);
    expect(result.body).toContain('event: error\ndata: {"error":{"message":"the host disconnected"');
    expect(result.summary?.outcome).toBe('host_disconnected');
  });

  describe('stripUsageChunk (a streamed completion whose caller did not ask for usage)', () => {
    const token = 'data: {"choices":[{"text":"a","index":0}]}\n\n';
    const usage = 'data: {"choices":[],"usage":{"prompt_tokens":2,"completion_tokens":1}}\n\n';

    it('counts the usage-only chunk and cuts it out of the stream, split across body pieces', async () => {
      const result = await exchange({ stripUsageChunk: true }, (x) => {
        x.lines([head(200, 'text/event-stream'), token + usage.slice(0, 20)]);
        x.lines([usage.slice(20), 'data: [DONE]\n\n']);
        x.done();
      });
      expect(result.body).toBe(token + 'data: [DONE]\n\n');
      expect(result.summary).toMatchObject({ outcome: 'completed', promptTokens: 2, completionTokens: 1 });
    });

    it('writes what is held before an error event, and leaves a JSON answer alone', async () => {
      const failed = await exchange({ stripUsageChunk: true }, (x) => {
        x.lines([head(200, 'text/event-stream'), token + 'data: {"choi']);
        x.error('host_disconnected', 'the host disconnected');
      });
      expect(failed.body).toMatch(/^data: \{"choices".*\n\ndata: \{"choievent: error\n/);
      const json = '{"choices":[],"usage":{"prompt_tokens":2}}';
      const whole = await exchange({ stripUsageChunk: true }, (x) => {
        x.lines([head(200, 'application/json'), json]);
        x.done();
      });
      expect(whole.body).toBe(json);
    });

    it('without it, the usage chunk is relayed as it came', async () => {
      const result = await exchange({}, (x) => {
        x.lines([head(200, 'text/event-stream'), token + usage]);
        x.done();
      });
      expect(result.body).toBe(token + usage);
    });
  });

  it('refuses a host that sends body before the head (502) and stops it', async () => {
    const result = await exchange({}, (x) => x.lines(['{"not":"a head"}']));
    expect(result.status).toBe(502);
    expect(result.cancelled).toBe(1);
  });
});
