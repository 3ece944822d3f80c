import type { IncomingMessage } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { sseEvents, type ChatResponseFrame } from '@app/protocol';
import type { Abortable } from './cancellation';
import { canonicalEvents, isDone, SseLineParser } from './sse-parser';
import { describeUpstreamError, readSomeText, type Upstream, type UpstreamResponse } from './upstream';

/** Where the frames of one request go: the socket the request came in on. */
export interface ChatSink {
  send(frame: ChatResponseFrame): boolean;
  /** True when the chunks go as binary chunk frames (`sendEvents`) instead of JSON frames. */
  readonly binaryChunks?: boolean;
  sendEvents?(requestId: string, events: string | Buffer, done: boolean): boolean;
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
  signal: Abortable;
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

/**
 * The body sent upstream: the caller's fields as they are, `stream` forced on, a model filled in,
 * and the usage chunk asked for (the registry counts tokens from it, and removes it from the
 * answer of a caller who did not ask for it).
 */
export function upstreamBody(
  request: Record<string, unknown>,
  defaultModel?: string,
): Record<string, unknown> {
  const streamOptions = request.stream_options;
  const body: Record<string, unknown> = {
    ...request,
    stream: true,
    stream_options: {
      ...(typeof streamOptions === 'object' && streamOptions !== null ? streamOptions : {}),
      include_usage: true,
    },
  };
  if ((typeof body.model !== 'string' || body.model === '') && defaultModel) body.model = defaultModel;
  return body;
}

/**
 * Serves one chat: POSTs it to the upstream and forwards each SSE `data:` payload. All lines of
 * one upstream read go out in one frame (`raw_sse` for one line, `raw_sse_batch` for several);
 * the frame of the read that ends with `[DONE]` carries `done: true` (a read of only `[DONE]`
 * sends `done: true` alone). An HTTP error, a dead connection or a stream that ends without
 * `[DONE]` sends one `error` frame and no `done`. Never throws.
 */
export async function serveChat(options: ServeChatOptions): Promise<ChatOutcome> {
  const { requestId, sink, signal } = options;
  const fail = (message: string): ChatOutcome => {
    if (signal.aborted) return { kind: 'aborted' };
    sink.send({ type: 'chat_response', request_id: requestId, error: message });
    return { kind: 'error', message };
  };
  if (signal.aborted) return { kind: 'aborted' };

  let res: UpstreamResponse;
  try {
    res = await options.upstream.chatCompletions(upstreamBody(options.request, options.defaultModel), signal);
  } catch (err) {
    return fail(`upstream request failed: ${describeUpstreamError(err)}`);
  }
  if (signal.aborted) {
    res.body.destroy();
    return { kind: 'aborted' };
  }
  if (res.status < 200 || res.status > 299) {
    const text = await readSomeText(res.body, 500);
    return fail(`upstream HTTP ${res.status}: ${text}`);
  }
  // Lenient about the type (some servers label their stream text/plain), but a JSON body means
  // the upstream ignored `stream: true` or sent an error with a 2xx status.
  if (res.contentType.includes('application/json')) {
    const text = await readSomeText(res.body, 500);
    return fail(`upstream answered ${res.contentType} instead of an event stream: ${text}`);
  }
  return forwardStream(options, res.body, fail);
}

/** The read loop: one `data` event of the body is one upstream read. */
function forwardStream(
  options: ServeChatOptions,
  body: IncomingMessage,
  fail: (message: string) => ChatOutcome,
): Promise<ChatOutcome> {
  const { requestId, sink, signal } = options;
  const high = options.highWaterMark ?? 4 * 1024 * 1024;
  const low = options.lowWaterMark ?? 1024 * 1024;
  const parser = new SseLineParser();
  // A binary frame carries the request id in at most 255 bytes (the registry's ids are far shorter).
  const binary =
    sink.binaryChunks === true && sink.sendEvents !== undefined && /^[\x21-\x7e]{1,255}$/.test(requestId);
  let lines = 0;
  let first = true;
  const decoder = new StringDecoder('utf8');
  // The parser and the decoder hold nothing (the last read they took ended a line): a read of
  // canonical events may then bypass them.
  let clean = true;

  const counted = (count: number) => {
    if (count === 0) return;
    lines += count;
    if (first) {
      first = false;
      options.onFirstChunk?.();
    }
  };

  // One read as it came, when it is whole canonical events (nearly always); true once [DONE] was
  // seen; null when the read needs the parser.
  const forwardBytes = (read: Buffer): boolean | null => {
    const events = canonicalEvents(read);
    if (events === null) return null;
    if (events.count === 0 && !events.done) return false;
    counted(events.count);
    sink.sendEvents!(
      requestId,
      events.end === read.length ? read : read.subarray(0, events.end),
      events.done,
    );
    return events.done;
  };

  // Any read: canonical bytes as they are, anything else through the decoder and the parser.
  const forwardRead = (read: Buffer): boolean => {
    if (binary && clean) {
      const done = forwardBytes(read);
      if (done !== null) return done;
    }
    clean = read.length > 0 && read[read.length - 1] === 0x0a;
    return forward(parser.push(decoder.write(read)));
  };

  // Forwards the payloads of one read; true once [DONE] was seen (what follows it is dropped).
  const forward = (payloads: string[]): boolean => {
    let doneAt = -1;
    for (let i = 0; i < payloads.length; i++) {
      if (isDone(payloads[i])) {
        doneAt = i;
        break;
      }
    }
    const done = doneAt !== -1;
    const count = done ? doneAt : payloads.length;
    if (binary) {
      if (count === 0 && !done) return false;
      counted(count);
      // The SSE bytes the caller will read, built once; nobody parses or re-encodes them.
      sink.sendEvents!(requestId, sseEvents(payloads, count), done);
      return done;
    }
    if (count === 0) {
      if (done) sink.send({ type: 'chat_response', request_id: requestId, done: true });
      return done;
    }
    counted(count);
    sink.send(
      count === 1
        ? { type: 'chat_response', request_id: requestId, raw_sse: payloads[0], done }
        : {
            type: 'chat_response',
            request_id: requestId,
            raw_sse_batch: done ? payloads.slice(0, count) : payloads,
            done,
          },
    );
    return done;
  };

  return new Promise<ChatOutcome>((resolve) => {
    let over = false;
    let timer: NodeJS.Timeout | undefined;

    // Settles once. `keep`: the body ended or is drained to its end, so its socket goes back to
    // the pool; otherwise the body is destroyed, which closes the upstream connection.
    const finish = (outcome: ChatOutcome, keep: boolean) => {
      over = true;
      signal.removeEventListener('abort', onAbort);
      if (timer !== undefined) clearInterval(timer);
      body.removeListener('data', onData);
      body.removeListener('end', onEnd);
      body.removeListener('aborted', onLost);
      body.removeListener('close', onLost);
      // 'error' keeps a listener (onError ignores it once over): a late one must not be thrown.
      if (keep) body.resume();
      else body.destroy();
      resolve(outcome);
    };
    const onAbort = () => {
      if (!over) finish({ kind: 'aborted' }, false);
    };
    // A throwing sink (or onFirstChunk) must not escape an event handler: the request ends.
    const broken = (err: unknown) => {
      if (!over)
        finish({ kind: 'error', message: `forwarding failed: ${describeUpstreamError(err)}` }, false);
    };
    const onData = (chunk: Buffer) => {
      if (over) return;
      try {
        if (!sink.isOpen) return finish({ kind: 'aborted' }, false);
        if (forwardRead(chunk)) return finish({ kind: 'done', lines }, true);
      } catch (err) {
        return broken(err);
      }
      if (timer === undefined && sink.bufferedAmount > high) {
        // Simple backpressure: stop reading (the upstream socket fills and TCP slows the
        // model server) until the registry socket has sent most of its buffer.
        body.pause();
        timer = setInterval(() => {
          if (over) return;
          if (!sink.isOpen) return finish({ kind: 'aborted' }, false);
          if (sink.bufferedAmount <= low) {
            clearInterval(timer);
            timer = undefined;
            body.resume();
          }
        }, 10);
      }
    };
    const onEnd = () => {
      if (over) return;
      try {
        const rest = decoder.end();
        if (forward(rest === '' ? parser.end() : [...parser.push(rest), ...parser.end()]))
          finish({ kind: 'done', lines }, true);
        else finish(fail('upstream ended without [DONE]'), true);
      } catch (err) {
        broken(err);
      }
    };
    const onError = (err: Error) => {
      if (!over) finish(fail(`upstream connection failed: ${describeUpstreamError(err)}`), false);
    };
    const onLost = () => {
      if (!over) finish(fail('upstream connection failed: connection closed before [DONE]'), false);
    };

    signal.addEventListener('abort', onAbort);
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
    body.on('aborted', onLost);
    body.on('close', onLost);
  });
}
