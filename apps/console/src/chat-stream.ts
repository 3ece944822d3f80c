import { ApiFailure, failureOf } from './api';

export interface ChatResult {
  text: string;
  /** From sending the request to the first content; null when no content came. */
  ttftMs: number | null;
  tokens: number;
  /** Tokens after the first one, per second of generation; null for fewer than two tokens. */
  tokensPerSecond: number | null;
}

export interface ChatOptions {
  url: string;
  body: Record<string, unknown>;
  key?: string;
  signal: AbortSignal;
  onText: (textSoFar: string) => void;
}

/** A stream that broke after it started (status 0: the HTTP status was 200): an in-band error event, or no [DONE]. */
export class StreamFailure extends ApiFailure {}

interface Chunk {
  choices?: Array<{ delta?: { content?: unknown; reasoning_content?: unknown } }>;
  usage?: { completion_tokens?: unknown };
  error?: { message?: unknown; code?: unknown };
}

/**
 * Sends one streaming chat and reads its SSE answer. Aborting `signal` closes the connection,
 * which the registry turns into a cancel at the host and the host into an abort at the model.
 */
export async function streamChat(options: ChatOptions): Promise<ChatResult> {
  const started = performance.now();
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream' };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  let response: Response;
  try {
    response = await fetch(options.url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ ...options.body, stream: true, stream_options: { include_usage: true } }),
      signal: options.signal,
    });
  } catch (error) {
    if (options.signal.aborted) throw error;
    throw new ApiFailure(0, 'the registry cannot be reached (network error)');
  }
  if (!response.ok || !response.body) throw await failureOf(response);

  let text = '';
  let firstAt: number | null = null;
  let lastAt = started;
  let chunksWithText = 0;
  let usageTokens: number | null = null;
  let done = false;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    buffer += value;
    let boundary: number;
    while ((boundary = buffer.indexOf('\n\n')) !== -1) {
      const event = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      for (const line of event.split('\n')) {
        if (!line.startsWith('data:')) continue; // comments (keepalives) and other fields
        const data = line.slice(5).trim();
        if (data === '[DONE]') {
          done = true;
          continue;
        }
        const chunk = JSON.parse(data) as Chunk;
        if (chunk.error)
          throw new StreamFailure(
            0,
            `the answer broke off: ${String(chunk.error.message ?? 'unknown error')}`,
            typeof chunk.error.code === 'string' ? chunk.error.code : undefined,
          );
        if (typeof chunk.usage?.completion_tokens === 'number') usageTokens = chunk.usage.completion_tokens;
        const delta = chunk.choices?.[0]?.delta;
        const piece = typeof delta?.content === 'string' ? delta.content : '';
        if (piece === '') continue;
        const now = performance.now();
        firstAt ??= now;
        lastAt = now;
        chunksWithText++;
        text += piece;
        options.onText(text);
      }
    }
  }
  if (!done) throw new StreamFailure(0, 'the answer ended without [DONE]: it may be incomplete');
  const tokens = usageTokens ?? chunksWithText;
  const generationSeconds = firstAt === null ? 0 : (lastAt - firstAt) / 1000;
  return {
    text,
    ttftMs: firstAt === null ? null : Math.round(firstAt - started),
    tokens,
    tokensPerSecond:
      tokens > 1 && generationSeconds > 0 ? Math.round(((tokens - 1) / generationSeconds) * 10) / 10 : null,
  };
}
