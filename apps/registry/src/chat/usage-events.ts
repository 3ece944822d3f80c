/**
 * Finds the SSE events that carry a `usage` object inside whole events from a binary chunk frame
 * (`data: …\n\n` each) with byte searches, so only those events are decoded and parsed; the bytes
 * around them go to the caller as they are.
 */

/** One search for the key; what follows it (`{`, after at most one space) is checked where it is found. */
const NEEDLE = Buffer.from('"usage":');
const OPEN_BRACE = 0x7b;
const SPACE = 0x20;
const SEPARATOR = Buffer.from('\n\n');
const PREFIX_BYTES = 'data: '.length;

export interface EventSpan {
  /** First byte of the event (`d` of `data: `). */
  start: number;
  /** One past its blank line. */
  end: number;
}

/** The next event at or after `from` (an event boundary) whose bytes contain a usage object; null if none. */
export function nextUsageEvent(events: Buffer, from: number): EventSpan | null {
  const at = usageObjectAt(events, from);
  if (at === -1) return null;
  const before = events.lastIndexOf(SEPARATOR, at);
  const after = events.indexOf(SEPARATOR, at);
  return {
    start: before === -1 || before < from ? from : before + SEPARATOR.length,
    end: after === -1 ? events.length : after + SEPARATOR.length,
  };
}

/**
 * Where the next `"usage":{` (or `"usage": {`) starts, -1 if nowhere: one pass over the bytes
 * (two needles were two passes over every frame); a `"usage":null`, which some
 * servers put on every chunk, is stepped over.
 */
function usageObjectAt(events: Buffer, from: number): number {
  for (let at = events.indexOf(NEEDLE, from); at !== -1; at = events.indexOf(NEEDLE, at + NEEDLE.length)) {
    let next = at + NEEDLE.length;
    if (events[next] === SPACE) next++;
    if (events[next] === OPEN_BRACE) return at;
  }
  return -1;
}

/** The chunk JSON of an event found by `nextUsageEvent`. */
export function eventPayload(events: Buffer, span: EventSpan): string {
  const end = Math.max(span.start + PREFIX_BYTES, span.end - SEPARATOR.length);
  return events.toString('utf8', span.start + PREFIX_BYTES, end);
}

/**
 * The bytes left once the events `drop` says to remove (a usage-only chunk the caller did not ask
 * for) are cut out; `drop` sees every usage event (and notes its tokens). Without usage events, or
 * when none is dropped, `events` itself.
 */
export function withoutDroppedUsage(events: Buffer, drop: (payload: string) => boolean): Buffer {
  const kept: Buffer[] = [];
  let keptFrom = 0;
  for (let span = nextUsageEvent(events, 0); span !== null; span = nextUsageEvent(events, span.end)) {
    if (!drop(eventPayload(events, span))) continue;
    if (span.start > keptFrom) kept.push(events.subarray(keptFrom, span.start));
    keptFrom = span.end;
  }
  if (keptFrom === 0) return events;
  if (keptFrom < events.length) kept.push(events.subarray(keptFrom));
  return kept.length === 1 ? kept[0] : Buffer.concat(kept);
}
