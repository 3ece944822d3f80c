import type { ChatResponseFrame } from '@app/protocol';
import { isDone, SseLineParser } from './sse-parser';
import { describeFetchError, readSomeText, type Upstream } from './upstream';

/** Where the frames of one request go: the socket the request came in on. */
export interface ChatSink {
  send(frame: ChatResponseFrame): boolean;
  readonly isOpen: boolean;
  readonly bufferedAmount: number;
}

export interface ServeChatOptions {
  requestId: string;
  request: Record<string, unknown>;
  upstream: Upstream;
  /** Model for a request that names none (--model, else the upstream's first model). */
  defaultModel?: string;
  sink: ChatSink;
  /** Aborted on `cancel`, socket loss or shutdown: the upstream request is dropped, nothing more is sent. */
  signal: AbortSignal;
  /** Called once with the time of the first forwarded line (for logs). */
  onFirstChunk?: () => void;
  /** Socket buffer above which reading the upstream pauses (simple backpressure). */
  highWaterMark?: number;
  lowWaterMark?: number;
}

export type ChatOutcome =
  | { kind: 'done'; lines: number }
  | { kind: 'error'; message: string }
  /** Cancelled or the socket went away; nothing more was sent. */
  | { kind: 'aborted' };

/** The body sent upstream: the caller's fields as they are, `stream` forced on, a model filled in. */
export function upstreamBody(
  request: Record<string, unknown>,
  defaultModel?: string,
): Record<string, unknown> {
  const body: Record<string, unknown> = { ...request, stream: true };
  if ((typeof body.model !== 'string' || body.model === '') && defaultModel) body.model = defaultModel;
  return body;
}

/**
 * Serves one chat: POSTs it to the upstream and forwards each SSE `data:` payload. All lines of
 * one upstream read go out in one frame (`raw_sse` for one line, `raw_sse_batch` for several).
 * `[DONE]` sends `done: true`; an HTTP error, a dead connection or a stream that ends without
 * `[DONE]` sends one `error` frame and no `done`. Never throws.
 */
export async function serveChat(options: ServeChatOptions): Promise<ChatOutcome> {
  const { requestId, sink, signal } = options;
  const high = options.highWaterMark ?? 4 * 1024 * 1024;
  const low = options.lowWaterMark ?? 1024 * 1024;
  const fail = (message: string): ChatOutcome => {
    if (signal.aborted) return { kind: 'aborted' };
    sink.send({ type: 'chat_response', request_id: requestId, error: message });
    return { kind: 'error', message };
  };

  let res: Response;
  try {
    res = await options.upstream.chatCompletions(upstreamBody(options.request, options.defaultModel), signal);
  } catch (err) {
    return fail(`upstream request failed: ${describeFetchError(err)}`);
  }
  if (signal.aborted) {
    await res.body?.cancel().catch(() => undefined);
    return { kind: 'aborted' };
  }
  if (!res.ok) {
    const text = await readSomeText(res, 500).catch(() => '');
    return fail(`upstream HTTP ${res.status}: ${text}`);
  }
  const contentType = res.headers.get('content-type') ?? '';
  // Lenient about the type (some servers label their stream text/plain), but a JSON body means
  // the upstream ignored `stream: true` or sent an error with a 2xx status.
  if (!res.body || contentType.includes('application/json')) {
    const text = await readSomeText(res, 500).catch(() => '');
    return fail(`upstream answered ${contentType || 'no body'} instead of an event stream: ${text}`);
  }

  const parser = new SseLineParser();
  const decoder = new TextDecoder();
  const reader = res.body.getReader();
  let lines = 0;
  let first = true;
  // Forwards the payloads of one read; true once [DONE] was seen.
  const forward = (payloads: string[]): boolean => {
    let doneAt = -1;
    for (let i = 0; i < payloads.length; i++) {
      if (isDone(payloads[i])) {
        doneAt = i;
        break;
      }
    }
    const data = doneAt === -1 ? payloads : payloads.slice(0, doneAt);
    if (data.length > 0) {
      if (first) {
        first = false;
        options.onFirstChunk?.();
      }
      lines += data.length;
      sink.send(
        data.length === 1
          ? { type: 'chat_response', request_id: requestId, raw_sse: data[0], done: false }
          : { type: 'chat_response', request_id: requestId, raw_sse_batch: data, done: false },
      );
    }
    if (doneAt !== -1) {
      sink.send({ type: 'chat_response', request_id: requestId, done: true });
      return true;
    }
    return false;
  };

  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (signal.aborted) return { kind: 'aborted' };
      if (done) {
        const tail = decoder.decode();
        if (forward([...parser.push(tail), ...parser.end()])) return { kind: 'done', lines };
        return fail('upstream ended without [DONE]');
      }
      if (!sink.isOpen) return { kind: 'aborted' };
      if (forward(parser.push(decoder.decode(value, { stream: true })))) return { kind: 'done', lines };
      if (sink.bufferedAmount > high) await drained(sink, signal, low);
    }
  } catch (err) {
    return fail(`upstream connection failed: ${describeFetchError(err)}`);
  } finally {
    // Releases (and on early exit closes) the upstream connection.
    reader.cancel().catch(() => undefined);
  }
}

/** Waits until the socket has sent most of its buffer, or the request is over. */
function drained(sink: ChatSink, signal: AbortSignal, low: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (signal.aborted || !sink.isOpen || sink.bufferedAmount <= low) {
        clearInterval(timer);
        signal.removeEventListener('abort', check);
        resolve();
      }
    };
    const timer = setInterval(check, 10);
    signal.addEventListener('abort', check);
  });
}
