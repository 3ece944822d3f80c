/**
 * Chat streams (server-sent events) as tests read them: `readSse` reads a whole answer;
 * `startStream` watches one while it runs, for fault tests that act mid-stream (after the first
 * chunk) and need to know when, and how, the stream ended.
 */

/** POSTs `body` as JSON. */
function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal,
  });
}

const isEventStream = (res: Response) =>
  (res.headers.get('content-type') ?? '').includes('text/event-stream');

/** Every line of every complete event of an SSE body, as the events arrive. */
async function* sseLines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let index: number;
    while ((index = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, index);
      buffer = buffer.slice(index + 2);
      yield* event.split('\n');
    }
  }
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The text content of chat.completion.chunk payloads (payloads that are not chunks add nothing). */
export function contentOf(data: string[]): string {
  return data
    .map((d) => safeParse(d) as { choices?: Array<{ delta?: { content?: string } }> } | null)
    .map((c) => c?.choices?.[0]?.delta?.content ?? '')
    .join('');
}

/** Reads an SSE answer: every `data:` payload in order, whether it ended with [DONE], and arrival times. */
export interface SseResult {
  status: number;
  headers: Headers;
  data: string[];
  done: boolean;
  comments: number;
  /** ms since the request was sent, per data line. */
  arrivals: number[];
}

export async function readSse(
  url: string,
  body: unknown,
  init: { signal?: AbortSignal; headers?: Record<string, string> } = {},
): Promise<SseResult> {
  const started = Date.now();
  const res = await postJson(url, body, init.headers, init.signal);
  const result: SseResult = {
    status: res.status,
    headers: res.headers,
    data: [],
    done: false,
    comments: 0,
    arrivals: [],
  };
  if (!res.body || !isEventStream(res)) {
    result.data.push(await res.text());
    return result;
  }
  for await (const line of sseLines(res.body)) {
    if (line.startsWith(':')) result.comments++;
    else if (line.startsWith('data: ')) {
      const payload = line.slice(6);
      if (payload === '[DONE]') result.done = true;
      else {
        result.data.push(payload);
        result.arrivals.push(Date.now() - started);
      }
    }
  }
  return result;
}

export interface StreamEnd {
  status: number;
  /** Every `data:` payload except [DONE], in order. */
  data: string[];
  /** Every `event:` name (named-event streams: Responses, Anthropic), in order. */
  eventNames: string[];
  done: boolean;
  /** The parsed `error` of a `data: {"error":…}` event, if one came. */
  error: { code?: string; message?: string } | null;
  /** The connection broke without a proper end (reset, node killed). */
  transportError: string | null;
  /** Date.now() when the stream ended (last event, error event or broken connection). */
  endedAt: number;
  /** Date.now() of each data payload. */
  arrivals: number[];
}

export interface LiveStream {
  /** Resolves when the first data payload arrived (rejects if the stream ended before). */
  firstData: Promise<void>;
  ended: Promise<StreamEnd>;
  abort(): void;
}

export function startStream(url: string, body: unknown, headers: Record<string, string> = {}): LiveStream {
  const controller = new AbortController();
  let markFirst!: () => void;
  let failFirst!: (error: Error) => void;
  const firstData = new Promise<void>((resolve, reject) => {
    markFirst = resolve;
    failFirst = reject;
  });
  // Callers that never await firstData must not get an unhandled rejection.
  firstData.catch(() => undefined);

  const run = async (): Promise<StreamEnd> => {
    const end: StreamEnd = {
      status: 0,
      data: [],
      eventNames: [],
      done: false,
      error: null,
      transportError: null,
      endedAt: 0,
      arrivals: [],
    };
    try {
      const res = await postJson(url, body, headers, controller.signal);
      end.status = res.status;
      if (!isEventStream(res)) {
        end.data.push(await res.text());
        return end;
      }
      for await (const line of sseLines(res.body as ReadableStream<Uint8Array>)) {
        if (line.startsWith('event: ')) end.eventNames.push(line.slice(7));
        if (!line.startsWith('data: ')) continue;
        const payload = line.slice(6);
        if (payload === '[DONE]') {
          end.done = true;
          continue;
        }
        end.data.push(payload);
        end.arrivals.push(Date.now());
        if (end.data.length === 1) markFirst();
        const parsed = safeParse(payload) as { error?: StreamEnd['error'] } | null;
        if (parsed && typeof parsed === 'object' && parsed.error) end.error = parsed.error;
      }
    } catch (error) {
      end.transportError = (error as Error).message;
    } finally {
      end.endedAt = Date.now();
      failFirst(new Error('the stream ended before its first data event'));
    }
    return end;
  };

  return { firstData, ended: run(), abort: () => controller.abort() };
}

/** What one caller received: content chunks (one token each from the fake model) and how it ended. */
export interface CallerReceipt {
  status: number;
  /** `data:` payloads whose `choices[0].delta.content` is not empty. */
  contentChunks: number;
  done: boolean;
  /** The `code` of an error (a JSON answer's or an SSE error event's), if one came. */
  errorCode: string | null;
}

/**
 * Reads a streamed chat as a caller would; with `leaveAfter`, the caller goes away (aborts) as soon
 * as it has that many content chunks, the way a user closes a tab mid-answer.
 */
export async function readAsCaller(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  leaveAfter = Infinity,
): Promise<CallerReceipt> {
  const controller = new AbortController();
  const res = await postJson(url, body, headers, controller.signal);
  const receipt: CallerReceipt = { status: res.status, contentChunks: 0, done: false, errorCode: null };
  if (!isEventStream(res)) {
    const parsed = safeParse(await res.text()) as { error?: { code?: string } } | null;
    receipt.errorCode = parsed?.error?.code ?? null;
    return receipt;
  }
  try {
    for await (const line of sseLines(res.body as ReadableStream<Uint8Array>)) {
      if (!line.startsWith('data: ')) continue;
      const payload = line.slice(6);
      if (payload === '[DONE]') {
        receipt.done = true;
        continue;
      }
      const parsed = safeParse(payload) as {
        error?: { code?: string };
        choices?: Array<{ delta?: { content?: string } }>;
      } | null;
      if (parsed?.error) receipt.errorCode = parsed.error.code ?? 'unknown';
      if (parsed?.choices?.[0]?.delta?.content) receipt.contentChunks++;
      if (receipt.contentChunks >= leaveAfter) {
        controller.abort();
        break;
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  }
  return receipt;
}
