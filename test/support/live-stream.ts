/**
 * A chat stream watched while it runs: fault tests need to act mid-stream (after the first
 * chunk) and to know when, and how, the stream ended.
 */
export interface StreamEnd {
  status: number;
  /** Every `data:` payload except [DONE], in order. */
  data: string[];
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
      done: false,
      error: null,
      transportError: null,
      endedAt: 0,
      arrivals: [],
    };
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      end.status = res.status;
      if (!(res.headers.get('content-type') ?? '').includes('text/event-stream')) {
        end.data.push(await res.text());
        return end;
      }
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let index: number;
        while ((index = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, index);
          buffer = buffer.slice(index + 2);
          for (const line of event.split('\n')) {
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
        }
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

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The text content of the chunks of a stream. */
export function textOf(data: string[]): string {
  return data
    .map((d) => safeParse(d) as { choices?: Array<{ delta?: { content?: string } }> } | null)
    .map((c) => c?.choices?.[0]?.delta?.content ?? '')
    .join('');
}
