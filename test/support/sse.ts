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
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...init.headers },
    body: JSON.stringify(body),
    signal: init.signal,
  });
  const result: SseResult = {
    status: res.status,
    headers: res.headers,
    data: [],
    done: false,
    comments: 0,
    arrivals: [],
  };
  if (!res.body || !(res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    result.data.push(await res.text());
    return result;
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
    }
  }
  return result;
}

/** The text content of chat.completion.chunk payloads. */
export const contentOf = (data: string[]) =>
  data
    .map((d) => JSON.parse(d) as { choices?: Array<{ delta?: { content?: string } }> })
    .map((c) => c.choices?.[0]?.delta?.content ?? '')
    .join('');
