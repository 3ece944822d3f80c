/** Tokens an answer reported, from whichever usage fields its API uses. */
export interface ReadUsage {
  prompt: number;
  completion: number;
}

const count = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;

/**
 * Notes the usage of one parsed object: OpenAI's `usage.prompt_tokens`/`completion_tokens`
 * (embeddings, completions, llama.cpp's rerank), a lone `total_tokens` as prompt tokens (vLLM's
 * rerank, which generates none), Responses' `input_tokens`/`output_tokens` (at the top, or in a
 * stream's `response.completed` event), Anthropic's (in `message_start`'s message, then each
 * `message_delta`, whose output count is the running total).
 */
export function noteUsage(value: unknown, into: ReadUsage): void {
  if (typeof value !== 'object' || value === null) return;
  const obj = value as { usage?: unknown; response?: { usage?: unknown }; message?: { usage?: unknown } };
  for (const usage of [obj.usage, obj.response?.usage, obj.message?.usage]) {
    if (typeof usage !== 'object' || usage === null) continue;
    const u = usage as Record<string, unknown>;
    const completion = count(u.completion_tokens) ?? count(u.output_tokens);
    const prompt =
      count(u.prompt_tokens) ??
      count(u.input_tokens) ??
      (completion === undefined ? count(u.total_tokens) : undefined);
    if (prompt !== undefined) into.prompt = prompt;
    if (completion !== undefined) into.completion = completion;
  }
}

/**
 * Reads the usage of an answer as it passes, without holding it: an event stream line by line
 * (only lines that mention usage are parsed), a JSON answer whole at its end. What it keeps is
 * bounded by `maxBytes` (past it, that answer's usage is not read: it is charged as relayed).
 */
export class UsageReader {
  readonly usage: ReadUsage = { prompt: 0, completion: 0 };
  private pending = '';
  private overflowed = false;

  constructor(
    private readonly stream: boolean,
    private readonly maxBytes: number,
  ) {}

  add(text: string): void {
    if (this.overflowed) return;
    this.pending += text;
    if (this.stream) {
      const end = this.pending.lastIndexOf('\n');
      if (end >= 0) {
        for (const line of this.pending.slice(0, end).split('\n')) this.readLine(line);
        this.pending = this.pending.slice(end + 1);
      }
    }
    if (this.pending.length > this.maxBytes) {
      this.overflowed = !this.stream;
      this.pending = '';
    }
  }

  /** The answer ended: reads what is left (the whole body of a JSON answer). */
  end(): ReadUsage {
    if (!this.overflowed && this.pending !== '') {
      if (this.stream) this.readLine(this.pending);
      else this.parse(this.pending);
    }
    this.pending = '';
    return this.usage;
  }

  private readLine(line: string): void {
    if (!line.startsWith('data:') || !line.includes('_tokens"')) return;
    this.parse(line.slice(5));
  }

  private parse(text: string): void {
    try {
      noteUsage(JSON.parse(text), this.usage);
    } catch {
      // Not JSON (or cut): no usage to read from it.
    }
  }
}
