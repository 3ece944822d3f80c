import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { CHAT_FAILURE_CODES } from '@app/protocol';
import { eventually } from '../../../../test/support/eventually';
import { CHAT_FAILURES } from './chat-failures';
import { ChatExchange, ChatSummary, ExchangeOptions } from './chat-exchange';

/** One real HTTP exchange: the test drives the ChatExchange, a fetch reads what the caller gets. */
async function exchange(options: Partial<ExchangeOptions>, drive: (x: ChatExchange) => void) {
  let summary: ChatSummary | undefined;
  let cancelled = 0;
  const server: Server = createServer((_req, res: ServerResponse) => {
    const x = new ChatExchange(res, {
      requestId: 'req-1',
      stream: true,
      receivedAt: performance.now(),
      keepaliveMs: 60_000,
      firstChunkTimeoutMs: 60_000,
      idleTimeoutMs: 60_000,
      totalTimeoutMs: 60_000,
      maxBufferedBytes: 1 << 20,
      maxAssembledBytes: 1 << 20,
      cancel: () => cancelled++,
      finished: (s) => (summary = s),
      ...options,
    });
    drive(x);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const started = performance.now();
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const body = await res.text();
    return {
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      body,
      ms: performance.now() - started,
      summary,
      cancelled: () => cancelled,
    };
  } finally {
    server.close();
  }
}

const line = (n: number) => `{"n":${n}}`;

describe('ChatExchange', () => {
  it("writes binary chunk frames' events as they are; a usage chunk is still counted and stripped", async () => {
    const usage = '{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5}}';
    const r = await exchange({ stripUsageChunk: true }, (x) => {
      x.rawEvents(Buffer.from('data: {"n":1}\n\ndata: {"n":2}\n\n'));
      x.rawEvents(Buffer.from(`data: {"n":3}\n\ndata: ${usage}\n\n`));
      x.done();
    });
    expect(r.body).toBe('data: {"n":1}\n\ndata: {"n":2}\n\ndata: {"n":3}\n\ndata: [DONE]\n\n');
    expect([r.summary?.promptTokens, r.summary?.completionTokens, r.summary?.outcome]).toEqual([
      3,
      5,
      'completed',
    ]);
  });

  it("assembles binary chunk frames' events into one answer for stream: false", async () => {
    const chunk = (content: string) =>
      `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"${content}"},"finish_reason":null}]}\n\n`;
    const r = await exchange({ stream: false }, (x) => {
      x.rawEvents(Buffer.from(chunk('Hel') + chunk('lo')));
      x.done();
    });
    expect(r.status).toBe(200);
    expect(
      (JSON.parse(r.body) as { choices: { message: { content: string } }[] }).choices[0].message.content,
    ).toBe('Hello');
  });

  it('streams lines as SSE and ends with [DONE]', async () => {
    const r = await exchange({}, (x) => {
      x.lines([line(1), line(2)]);
      x.lines([line(3)]);
      x.done();
    });
    expect(r.status).toBe(200);
    expect(r.body).toBe('data: {"n":1}\n\ndata: {"n":2}\n\ndata: {"n":3}\n\ndata: [DONE]\n\n');
    expect(r.summary?.outcome).toBe('completed');
    expect(r.summary?.status).toBe(200);
  });

  it('first-chunk timeout: a real 504 before any token, and the host is told to stop', async () => {
    const r = await exchange({ firstChunkTimeoutMs: 150 }, () => {});
    expect(r.status).toBe(504);
    expect(JSON.parse(r.body).error.code).toBe('timeout');
    expect(r.ms).toBeGreaterThanOrEqual(140);
    expect(r.summary?.outcome).toBe('timeout');
    // The status the caller got travels with the summary (the owner's inspector lists it).
    expect(r.summary?.status).toBe(504);
    expect(r.cancelled()).toBe(1);
  });

  it('idle timeout: steady chunks keep the stream alive; a silence longer than the limit ends it with an error event', async () => {
    const idleTimeoutMs = 120;
    let sent = 0;
    const r = await exchange({ idleTimeoutMs }, (x) => {
      // A chunk every 40 ms for ~400 ms (well past the idle limit in total), then silence.
      const timer = setInterval(() => {
        x.lines([line(++sent)]);
        if (sent === 10) clearInterval(timer);
      }, 40);
    });
    expect(r.status).toBe(200);
    expect(r.body).toContain(`data: ${line(10)}\n\n`);
    expect(r.body).not.toContain('[DONE]');
    const last = r.body.trim().split('\n\n').pop()!;
    expect(JSON.parse(last.slice('data: '.length)).error.code).toBe('timeout');
    // 10 chunks 40 ms apart, then the idle limit: the stream was never cut while chunks flowed.
    expect(r.ms).toBeGreaterThanOrEqual(400 + idleTimeoutMs - 10);
    expect(r.summary?.outcome).toBe('timeout');
  });

  it('total timeout ends even a stream that never goes quiet', async () => {
    let timer: NodeJS.Timeout | undefined;
    const r = await exchange({ totalTimeoutMs: 200 }, (x) => {
      timer = setInterval(() => x.lines([line(1)]), 20);
    });
    clearInterval(timer);
    expect(r.body).toMatch(/"code":"timeout"/);
    expect(r.ms).toBeLessThan(1_000);
  });

  it('sends keepalive comments while the host thinks', async () => {
    const r = await exchange({ keepaliveMs: 50 }, (x) => {
      setTimeout(() => {
        x.lines([line(1)]);
        x.done();
      }, 180);
    });
    expect(r.body.startsWith(': keepalive\n\n')).toBe(true);
    expect(r.body.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('a caller that keeps up is never cut off', async () => {
    const line16k = `"${'x'.repeat(16 * 1024)}"`;
    const r = await exchange({ maxBufferedBytes: 64 * 1024 }, (x) => {
      let sent = 0;
      const next = () => {
        x.lines([line16k]);
        if (++sent < 64) setTimeout(next, 1);
        else x.done();
      };
      next();
    });
    expect(r.summary?.outcome).toBe('completed');
    expect(r.body.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('a caller that stops reading is cut off (slow_reader) once the backlog passes the limit', async () => {
    let summary: ChatSummary | undefined;
    let pump: NodeJS.Timeout | undefined;
    const server = createServer((_req, res) => {
      const x = new ChatExchange(res, {
        requestId: 'slow',
        stream: true,
        receivedAt: performance.now(),
        keepaliveMs: 60_000,
        firstChunkTimeoutMs: 60_000,
        idleTimeoutMs: 60_000,
        totalTimeoutMs: 60_000,
        maxBufferedBytes: 64 * 1024,
        maxAssembledBytes: 1 << 20,
        cancel: () => {},
        finished: (s) => (summary = s),
      });
      const chunk = `"${'y'.repeat(16 * 1024)}"`;
      // 16 KiB every 2 ms, more than loopback buffers hold within seconds, to a caller that reads nothing.
      pump = setInterval(() => (x.isFinished ? clearInterval(pump) : x.lines([chunk])), 2);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    let response: IncomingMessage | undefined;
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent: false });
    req.on('response', (res) => {
      res.pause();
      res.on('error', () => {});
      response = res;
    });
    // Cut off, the caller may see a reset before or after the headers; only the node's verdict counts here.
    req.on('error', () => {});
    req.end();
    // Cleaned up either way; the expectation below says what was missing.
    await eventually(() => summary !== undefined, 5_000, 20).catch(() => undefined);
    clearInterval(pump);
    response?.destroy();
    req.destroy();
    server.closeAllConnections();
    server.close();
    expect(summary?.outcome).toBe('slow_reader');
  });

  it('stream: false: an answer past the assembly limit is a 502 naming the problem, and the host is told to stop', async () => {
    const big = JSON.stringify({ choices: [{ index: 0, delta: { content: 'z'.repeat(700) } }] });
    const r = await exchange({ stream: false, maxAssembledBytes: 1_000 }, (x) => {
      x.lines([big]);
      x.lines([big]);
      x.lines([big]);
      x.done();
    });
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body).error.message).toMatch(/1000-byte limit.*"stream": true/);
    expect(r.summary?.outcome).toBe('host_error');
    expect(r.summary?.status).toBe(502);
    expect(r.cancelled()).toBe(1);
  });

  it('an error before any token keeps its HTTP status; after tokens it is an SSE error event', async () => {
    const before = await exchange({}, (x) => x.error('not_connected', 'gone'));
    expect(before.status).toBe(503);
    const after = await exchange({}, (x) => {
      x.lines([line(1)]);
      x.error('host_disconnected', 'the host disconnected');
    });
    expect(after.status).toBe(200);
    expect(after.body).toMatch(/^data: \{"n":1\}\n\ndata: \{"error":.*"code":"host_disconnected"/);
    expect(after.body).not.toContain('[DONE]');
  });

  it.each(CHAT_FAILURE_CODES)(
    '%s before any token: the status, Retry-After and cancel at the host of CHAT_FAILURES',
    async (code) => {
      const { status, retryAfterS, cancelAtHost } = CHAT_FAILURES[code];
      const r = await exchange({}, (x) => x.error(code, 'failed'));
      expect(r.status).toBe(status);
      expect(JSON.parse(r.body).error.code).toBe(code);
      if (retryAfterS === 'utc_day_end') expect(Number(r.retryAfter)).toBeLessThanOrEqual(86_400);
      else expect(r.retryAfter).toBe(retryAfterS === null ? null : String(retryAfterS));
      expect(r.cancelled()).toBe(cancelAtHost ? 1 : 0);
    },
  );
});
