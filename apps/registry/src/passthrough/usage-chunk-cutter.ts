/**
 * Cuts the usage-only chunk (`choices: []` + `usage`) out of a streamed OpenAI answer whose
 * caller did not ask for it (the registry did, to count its tokens). The body comes as text in
 * pieces that need not end on event boundaries: the piece of an event not yet ended is held until
 * its blank line comes; whole events are written as they came, and only those whose text mentions
 * a `usage` object are parsed. An event longer than `maxHeldChars` is not held (no usage chunk is
 * that long): it is written as it comes, and holding resumes at the next event.
 */
export class UsageChunkCutter {
  private held = '';
  /** In an event too long to hold: written as it comes until its end. */
  private passing = false;

  constructor(private readonly maxHeldChars: number) {}

  /** A piece of the body: what may be written now. */
  push(text: string): string {
    let out = '';
    if (this.passing) {
      const end = firstEventEnd(text);
      if (end === -1) return text;
      this.passing = false;
      out = text.slice(0, end);
      text = text.slice(end);
    }
    const pending = this.held === '' ? text : this.held + text;
    const end = lastEventEnd(pending);
    this.held = end === pending.length ? '' : pending.slice(end);
    if (end > 0) out += withoutUsageChunks(end === pending.length ? pending : pending.slice(0, end));
    if (this.held.length > this.maxHeldChars) {
      out += this.held;
      this.held = '';
      this.passing = true;
    }
    return out;
  }

  /** The body ended: what is still held (an event without its blank line), as it came. */
  end(): string {
    const rest = this.held;
    this.held = '';
    return rest.includes(USAGE) || rest.includes(USAGE_SPACED) ? withoutUsageChunks(rest) : rest;
  }
}

const USAGE = '"usage":{';
const USAGE_SPACED = '"usage": {';

/** Blank lines that end an SSE event (LF, CRLF, CR line ends), with their length. */
const ENDS: ReadonlyArray<readonly [string, number]> = [
  ['\n\n', 2],
  ['\n\r\n', 3],
  ['\r\r', 2],
];

/** One past the last blank line in `text`; 0 when there is none. A CR at the very end may be half a CRLF: not an end yet. */
export function lastEventEnd(text: string): number {
  let best = 0;
  for (const [mark, length] of ENDS) {
    let at = text.lastIndexOf(mark);
    if (mark === '\r\r' && at !== -1 && at + length === text.length) at = text.lastIndexOf(mark, at - 1);
    if (at !== -1 && at + length > best) best = at + length;
  }
  return best;
}

/** One past the first blank line at or after `from`; -1 when there is none. */
export function firstEventEnd(text: string, from = 0): number {
  let best = -1;
  for (const [mark, length] of ENDS) {
    const at = text.indexOf(mark, from);
    if (at !== -1 && (best === -1 || at + length < best)) best = at + length;
  }
  return best;
}

/** Start of the event that holds position `at`: one past the last blank line before it, or `from`. */
function eventStart(text: string, at: number, from: number): number {
  let start = from;
  for (const [mark, length] of ENDS) {
    const i = text.lastIndexOf(mark, at - length);
    if (i !== -1 && i + length > start && i + length <= at) start = i + length;
  }
  return start;
}

/** The next mention of a usage object at or after `from`; -1 when there is none. */
function nextUsage(text: string, from: number): number {
  const a = text.indexOf(USAGE, from);
  const b = text.indexOf(USAGE_SPACED, from);
  return a === -1 ? b : b === -1 ? a : Math.min(a, b);
}

/** `events` (whole events, the last one may lack its blank line) without their usage-only chunks. */
export function withoutUsageChunks(events: string): string {
  let out = '';
  let keptFrom = 0;
  let from = 0;
  for (let at = nextUsage(events, 0); at !== -1; at = nextUsage(events, from)) {
    const start = eventStart(events, at, from);
    const found = firstEventEnd(events, at);
    const end = found === -1 ? events.length : found;
    if (isUsageOnly(events.slice(start, end))) {
      out += events.slice(keptFrom, start);
      keptFrom = end;
    }
    from = end;
  }
  return keptFrom === 0 ? events : out + events.slice(keptFrom);
}

/** An event whose data is a chunk with `choices: []` and a `usage` object. */
export function isUsageOnly(event: string): boolean {
  let data = '';
  let lines = 0;
  for (const line of event.split(/\r\n|\r|\n/)) {
    if (!line.startsWith('data:')) continue;
    data += (lines++ === 0 ? '' : '\n') + line.slice(line.startsWith('data: ') ? 6 : 5);
  }
  try {
    const chunk = JSON.parse(data) as { choices?: unknown; usage?: unknown } | null;
    return (
      Array.isArray(chunk?.choices) &&
      chunk.choices.length === 0 &&
      typeof chunk.usage === 'object' &&
      chunk.usage !== null
    );
  } catch {
    return false;
  }
}
