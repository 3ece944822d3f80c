/**
 * The model server next to the agent: any OpenAI-compatible base URL (Ollama, llama.cpp,
 * vLLM, LM Studio, ...). Uses Node's global fetch (undici); an aborted request closes its
 * upstream connection at once.
 */
export interface UpstreamOptions {
  /** Base URL without trailing slash, e.g. http://127.0.0.1:11434/v1. */
  baseUrl: string;
  apiKey?: string;
  /** Timeout of GET /models. */
  modelsTimeoutMs?: number;
}

export class Upstream {
  readonly baseUrl: string;
  private readonly apiKey?: string;
  private readonly modelsTimeoutMs: number;

  constructor(options: UpstreamOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.modelsTimeoutMs = options.modelsTimeoutMs ?? 3000;
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    return this.apiKey ? { ...extra, Authorization: `Bearer ${this.apiKey}` } : extra;
  }

  /** Model ids from GET /models; throws on any failure (callers fall back to []). */
  async listModels(signal?: AbortSignal): Promise<string[]> {
    const timeout = AbortSignal.timeout(this.modelsTimeoutMs);
    const res = await fetch(`${this.baseUrl}/models`, {
      headers: this.headers({ Accept: 'application/json' }),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw new Error(`GET /models answered HTTP ${res.status}`);
    }
    const body = (await res.json()) as { data?: unknown };
    if (!Array.isArray(body?.data)) throw new Error('GET /models answered without a data list');
    return body.data
      .map((m: unknown) => (typeof m === 'object' && m !== null ? (m as { id?: unknown }).id : undefined))
      .filter((id): id is string => typeof id === 'string' && id !== '');
  }

  /** POST /chat/completions asking for an event stream. The caller reads or cancels the body. */
  chatCompletions(body: Record<string, unknown>, signal: AbortSignal): Promise<Response> {
    return fetch(`${this.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: this.headers({ 'Content-Type': 'application/json', Accept: 'text/event-stream' }),
      body: JSON.stringify(body),
      signal,
    });
  }
}

/** Reads at most `limit` characters of an error body, then drops the rest. */
export async function readSomeText(res: Response, limit = 500): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return text.slice(0, limit);
}

/** A short description of a fetch failure: undici hides the useful part in `cause`. */
export function describeFetchError(err: unknown): string {
  // Duck-typed: errors from another realm (undici inside jest's sandbox) fail `instanceof Error`.
  const e = err as {
    name?: unknown;
    message?: unknown;
    cause?: { code?: unknown; message?: unknown };
  } | null;
  if (!e || typeof e.message !== 'string') return String(err);
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return e.message;
  const cause = e.cause;
  if (cause && typeof cause.message === 'string') {
    const code =
      typeof cause.code === 'string' && !cause.message.includes(cause.code) ? `${cause.code} ` : '';
    return `${e.message}: ${code}${cause.message}`;
  }
  return e.message;
}
