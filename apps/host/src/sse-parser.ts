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

/** Where a read of canonical events stops being forwardable as it is; see `canonicalEvents`. */
export interface CanonicalEvents {
  /** Bytes [0, end) are whole `data: <payload>\n\n` events (none of them `[DONE]`). */
  end: number;
  /** Events in [0, end). */
  count: number;
  /** An event `data: [DONE]\n\n` starts at `end`: the answer is complete. */
  done: boolean;
}

const LF = 0x0a;
const CR = 0x0d;
const OPEN_BRACKET = 0x5b;

/**
 * The fast path for what nearly every OpenAI-compatible server sends: when one upstream read is
 * nothing but whole `data: <payload>\n\n` events (LF only, one space, up to an optional
 * `data: [DONE]`), its bytes can go to the registry as they are, with no decoding, splitting or
 * re-encoding. Null when the read is anything else (a partial event, CRLF, comments, `event:`
 * lines, a BOM, `data:` without its space, a single newline between events): that read takes
 * `SseLineParser`, which handles them all.
 */
export function canonicalEvents(read: Buffer): CanonicalEvents | null {
  let at = 0;
  let count = 0;
  while (at < read.length) {
    if (!startsWithData(read, at)) return null;
    const payload = at + 6;
    const nl = read.indexOf(LF, payload);
    if (nl === -1 || read[nl + 1] !== LF || nl === payload || read[nl - 1] === CR) return null;
    // Only a payload starting with `[` or a space can be the end marker (`isDone` decides).
    const first = read[payload];
    if ((first === OPEN_BRACKET || first === 0x20) && isDone(read.toString('latin1', payload, nl)))
      return { end: at, count, done: true };
    count++;
    at = nl + 2;
  }
  return { end: at, count, done: false };
}

/** `data: ` at `at` (byte compares: cheaper than a native call for six bytes). */
function startsWithData(read: Buffer, at: number): boolean {
  return (
    read[at] === 0x64 && // d
    read[at + 1] === 0x61 && // a
    read[at + 2] === 0x74 && // t
    read[at + 3] === 0x61 && // a
    read[at + 4] === 0x3a && // :
    read[at + 5] === 0x20
  );
}
