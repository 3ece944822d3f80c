/**
 * Splits an upstream Server-Sent Events body into the payloads of its `data:` lines.
 *
 * Each `data:` line is taken on its own (as the Second Me client does), not joined with the
 * other `data:` lines of its event: every OpenAI-compatible server sends one JSON object per
 * line, and some send events separated by a single newline, which joining would corrupt.
 * Comments (`: keepalive`), `event:`, `id:`, `retry:` and blank lines are skipped.
 * Lines end with `\n` or `\r\n`; a line split across reads is kept until its end arrives.
 */
export class SseLineParser {
  private partial = '';
  private first = true;

  /** Feeds one decoded read; returns the payloads of the `data:` lines it completed. */
  push(text: string): string[] {
    if (this.first && text.length > 0) {
      this.first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    const out: string[] = [];
    let start = 0;
    let nl = text.indexOf('\n');
    if (nl === -1) {
      this.partial += text;
      return out;
    }
    // The first line may continue what the previous read left over.
    if (this.partial !== '') {
      const line = this.partial + text.slice(0, nl);
      this.partial = '';
      pushLine(line, out);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    while (nl !== -1) {
      pushLine(text.slice(start, nl), out);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    if (start < text.length) this.partial = text.slice(start);
    return out;
  }

  /** At the end of the body: a last line without a newline still counts (lenient). */
  end(): string[] {
    const out: string[] = [];
    if (this.partial !== '') pushLine(this.partial, out);
    this.partial = '';
    return out;
  }
}

function pushLine(line: string, out: string[]): void {
  if (!line.startsWith('data:')) return;
  let end = line.length;
  if (end > 0 && line.charCodeAt(end - 1) === 13 /* \r */) end--;
  const start = line.charCodeAt(5) === 32 /* space */ ? 6 : 5;
  out.push(line.slice(start, end));
}

/** True for the end-of-stream marker. */
export function isDone(payload: string): boolean {
  return payload === '[DONE]' || payload.trim() === '[DONE]';
}
