/**
 * The binary chunk frame (ours, negotiated): the SSE events of one upstream read as bytes, so
 * neither the agent nor the registry turns a chunk into JSON and back.
 *
 * Negotiation, both ways: a registry that reads these frames says so in the WebSocket upgrade's
 * response header (`CHUNK_FRAMES_HEADER: binary`); an agent that saw it and sends them says so in
 * its hello (`capabilities.binary_chunks: true`). Either side without it keeps the JSON
 * `chat_response` frames, so a stock Second Me host and an older agent or registry see no change.
 *
 * Layout (a WebSocket binary message):
 *
 *   byte 0      CHUNK_FRAME_TYPE (1)
 *   byte 1      flags: bit 0 = done (the answer is complete; no `[DONE]` in the bytes)
 *   byte 2      n = length of the request id (1..255, ASCII)
 *   3 .. 3+n    the request id
 *   3+n ..      the events: zero or more `data: <payload>\n\n`, whole events only
 *
 * An error still travels as a JSON `chat_response` with `error` (rare, and a stock host's shape).
 */

export const CHUNK_FRAMES_HEADER = 'x-registry-chunk-frames';
export const CHUNK_FRAMES_BINARY = 'binary';

export const CHUNK_FRAME_TYPE = 1;
const FLAG_DONE = 1;
const HEADER_BYTES = 3;
const PREFIX = 'data: ';
const SEPARATOR = '\n\n';

export interface ChunkFrame {
  requestId: string;
  /** Whole SSE events (`data: …\n\n` each), as they go to a streaming caller; may be empty. */
  events: Buffer;
  done: boolean;
}

/** The SSE text of `payloads[0..count)`: each one `data: <payload>\n\n`. */
export function sseEvents(payloads: readonly string[], count = payloads.length): string {
  let text = '';
  for (let i = 0; i < count; i++) text += PREFIX + payloads[i] + SEPARATOR;
  return text;
}

/** One binary chunk frame: a single allocation, the events (text or the bytes as read) written into it. */
export function encodeChunkFrame(requestId: string, events: string | Buffer, done: boolean): Buffer {
  const idBytes = requestId.length;
  if (idBytes === 0 || idBytes > 255) throw new RangeError('a request id of 1..255 characters');
  const eventBytes = typeof events === 'string' ? Buffer.byteLength(events, 'utf8') : events.length;
  const frame = Buffer.allocUnsafe(HEADER_BYTES + idBytes + eventBytes);
  frame[0] = CHUNK_FRAME_TYPE;
  frame[1] = done ? FLAG_DONE : 0;
  frame[2] = idBytes;
  frame.write(requestId, HEADER_BYTES, 'latin1');
  if (typeof events === 'string') frame.write(events, HEADER_BYTES + idBytes, 'utf8');
  else events.copy(frame, HEADER_BYTES + idBytes);
  return frame;
}

/**
 * Reads a binary chunk frame a host sent; null when it is not one (wrong type, truncated, or
 * events that are not whole `data:` events). O(1) beyond the id: the events are not scanned.
 * The returned `events` is a view on `frame`, not a copy.
 */
export function decodeChunkFrame(frame: Buffer): ChunkFrame | null {
  if (frame.length < HEADER_BYTES || frame[0] !== CHUNK_FRAME_TYPE || (frame[1] & ~FLAG_DONE) !== 0)
    return null;
  const idBytes = frame[2];
  const start = HEADER_BYTES + idBytes;
  if (idBytes === 0 || frame.length < start) return null;
  const events = frame.subarray(start);
  if (events.length > 0 && !isWholeEvents(events)) return null;
  return {
    requestId: frame.toString('latin1', HEADER_BYTES, start),
    events,
    done: (frame[1] & FLAG_DONE) !== 0,
  };
}

/** Starts with `data: ` and ends with a blank line: what a caller's SSE parser can take as it is. */
export function isWholeEvents(events: Buffer): boolean {
  const n = events.length;
  return (
    n >= PREFIX.length + SEPARATOR.length &&
    events[n - 1] === 0x0a &&
    events[n - 2] === 0x0a &&
    events[0] === 0x64 && // d
    events[1] === 0x61 && // a
    events[2] === 0x74 && // t
    events[3] === 0x61 && // a
    events[4] === 0x3a && // :
    events[5] === 0x20
  );
}

/** The payloads of whole events (the inverse of `sseEvents`), for whoever must look inside. */
export function eventPayloads(events: Buffer | string): string[] {
  const text = typeof events === 'string' ? events : events.toString('utf8');
  if (text.length === 0) return [];
  return text.slice(PREFIX.length, text.length - SEPARATOR.length).split(SEPARATOR + PREFIX);
}
