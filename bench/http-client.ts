/**
 * The one HTTP client every measurement uses, direct or through the registry: node:http with a
 * keep-alive Agent, POSTing a chat body and reading the SSE answer with timestamps.
 */
import * as http from 'node:http';

export interface StreamResult {
  ok: boolean;
  status: number;
  /** ms from sending the request to the first `data:` chunk. */
  ttftMs: number;
  /** ms from sending the request to the end of the response. */
  totalMs: number;
  /** `data:` events other than [DONE]. */
  chunks: number;
  done: boolean;
  /** ms between consecutive data chunks (only when asked for). */
  gaps?: number[];
  error?: string;
  /** Whether the request went out on a reused keep-alive connection. */
  reused: boolean;
}

/** Where a stream goes: the fake model itself or a registry's chat URL, with the same body. */
export interface Target {
  name: string;
  url: URL;
  /** Extra request headers (an access key). */
  headers?: Record<string, string>;
}

export const CHAT_BODY = JSON.stringify({
  model: 'fake-model',
  messages: [{ role: 'user', content: 'Benchmark prompt: say something.' }],
  stream: true,
});

export class SseClient {
  private readonly agent: http.Agent;

  constructor(maxSockets = 4096) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  /** Closes every pooled connection. */
  close(): void {
    this.agent.destroy();
  }

  stream(
    target: Target,
    opts: { timeoutMs: number; expectChunks?: number; gaps?: boolean; body?: string },
  ): Promise<StreamResult> {
    const body = opts.body ?? CHAT_BODY;
    return new Promise((resolve) => {
      const result: StreamResult = {
        ok: false,
        status: 0,
        ttftMs: NaN,
        totalMs: NaN,
        chunks: 0,
        done: false,
        reused: false,
      };
      if (opts.gaps) result.gaps = [];
      let settled = false;
      let last = 0;
      const finish = (error?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        result.totalMs = performance.now() - started;
        if (error) result.error = error;
        else if (result.status !== 200) result.error = `HTTP ${result.status}`;
        else if (!result.done) result.error = 'stream ended without [DONE]';
        else if (opts.expectChunks !== undefined && result.chunks !== opts.expectChunks)
          result.error = `expected ${opts.expectChunks} chunks, got ${result.chunks}`;
        result.ok = result.error === undefined;
        resolve(result);
      };
      const req = http.request(
        {
          agent: this.agent,
          method: 'POST',
          hostname: target.url.hostname,
          port: target.url.port,
          path: target.url.pathname,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            accept: 'text/event-stream',
            ...target.headers,
          },
        },
        (res) => {
          result.status = res.statusCode ?? 0;
          let buffer = '';
          res.on('data', (data: Buffer) => {
            const now = performance.now();
            buffer += data.toString('latin1');
            let from = 0;
            for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n', from)) {
              if (buffer.startsWith('data: ', from)) {
                if (buffer.startsWith('data: [DONE]', from)) result.done = true;
                else if (buffer.startsWith('data: {"error"', from))
                  result.error = `error event: ${buffer.slice(from + 6, end)}`;
                else {
                  if (result.chunks === 0) result.ttftMs = now - started;
                  else result.gaps?.push(now - last);
                  last = now;
                  result.chunks++;
                }
              }
              from = end + 2;
            }
            buffer = from === 0 ? buffer : buffer.slice(from);
          });
          res.on('end', () => finish(result.error));
          res.on('error', (err) => finish(err.message));
          res.on('aborted', () => finish('response aborted'));
        },
      );
      const timer = setTimeout(() => {
        finish(`timed out after ${opts.timeoutMs} ms`);
        req.destroy();
      }, opts.timeoutMs);
      req.on('error', (err) => finish(err.message));
      req.on('socket', () => (result.reused = req.reusedSocket));
      const started = performance.now();
      req.end(body);
    });
  }
}
