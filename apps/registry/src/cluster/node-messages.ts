import { isChatFailureCode, type NodeReplyMessage, type NodeRequestMessage } from '@app/protocol';

const REQUEST_KINDS = new Set(['chat', 'cancel', 'evict']);
const INSPECT_KINDS = new Set(['inspect', 'inspected']);
const BODY_KINDS = new Set(['body-of', 'body']);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isString = (value: unknown): value is string => typeof value === 'string';

/** Cheap structural checks: enough that a handler can trust the fields it routes on; null = drop it. */
export function decodeNodeRequest(value: unknown): NodeRequestMessage | null {
  if (isObject(value) && isString(value.kind) && INSPECT_KINDS.has(value.kind)) return decodeInspect(value);
  if (isObject(value) && isString(value.kind) && BODY_KINDS.has(value.kind)) return decodeBody(value);
  if (
    isObject(value) &&
    isString(value.kind) &&
    REQUEST_KINDS.has(value.kind) &&
    isString(value.from) &&
    isString(value.instanceId) &&
    Number.isInteger(value.epoch) &&
    (value.kind === 'evict' || isString(value.requestId))
  )
    return value as unknown as NodeRequestMessage;
  return null;
}

/** The inspector's query and answer; the rows of an answer are checked one by one where they are read. */
function decodeInspect(value: Record<string, unknown>): NodeRequestMessage | null {
  if (!isString(value.from) || !isString(value.instanceId) || !isString(value.requestId)) return null;
  if (value.kind === 'inspected')
    return Array.isArray(value.rows) ? (value as unknown as NodeRequestMessage) : null;
  const optional = (field: unknown) => field === undefined || isString(field);
  return Number.isFinite(value.since) &&
    Number.isSafeInteger(value.limit) &&
    optional(value.status) &&
    optional(value.keyId)
    ? (value as unknown as NodeRequestMessage)
    : null;
}

/** A captured body's query and answer; the body of an answer is checked where it is read. */
function decodeBody(value: Record<string, unknown>): NodeRequestMessage | null {
  if (!isString(value.from) || !isString(value.instanceId) || !isString(value.requestId)) return null;
  if (value.kind === 'body-of') return isString(value.id) ? (value as unknown as NodeRequestMessage) : null;
  return 'body' in value ? (value as unknown as NodeRequestMessage) : null;
}

/** A broadcast as received: a JSON object naming its sender; null = drop it. */
export function decodeBroadcast(value: unknown): { message: Record<string, unknown>; from: string } | null {
  return isObject(value) && isString(value.from) && value.from !== ''
    ? { message: value, from: value.from }
    : null;
}

/** A reply as this node acts on it; `problem` (for the node's log) says why it was turned into a `node_error`. */
export interface DecodedReply {
  message: NodeReplyMessage;
  problem?: string;
}

/** What the caller reads when another node's reply cannot be read; the detail goes to the log. */
export const NODE_ERROR_MESSAGE = 'the registry node holding the host failed this request';

/**
 * A reply that names its request but is otherwise unreadable (an unknown failure code or kind from
 * a newer node during a rolling upgrade, a malformed field) fails that request as `node_error`
 * (502) rather than being dropped, which would leave the caller waiting. Null = names no request.
 */
export function decodeNodeReply(value: unknown): DecodedReply | null {
  if (!isObject(value) || !isString(value.requestId) || !Number.isInteger(value.seq)) return null;
  const { requestId, seq } = value as { requestId: string; seq: number };
  const unreadable = (problem: string): DecodedReply => ({
    message: { kind: 'error', requestId, seq, code: 'node_error', message: NODE_ERROR_MESSAGE },
    problem,
  });
  switch (value.kind) {
    case 'chunks':
      if (!Array.isArray(value.lines) || !value.lines.every(isString))
        return unreadable('chunks without string lines');
      if (value.done !== undefined && typeof value.done !== 'boolean')
        return unreadable('chunks with a non-boolean done');
      return {
        message: { kind: 'chunks', requestId, seq, lines: value.lines, ...(value.done && { done: true }) },
      };
    case 'done':
      return { message: { kind: 'done', requestId, seq } };
    case 'error':
      if (!isChatFailureCode(value.code) || !isString(value.message))
        return unreadable(`error ${preview(value.code)}: ${preview(value.message)}`);
      return { message: { kind: 'error', requestId, seq, code: value.code, message: value.message } };
    default:
      return unreadable(`unknown kind ${preview(value.kind)}`);
  }
}

/** Enough of a stranger's value for a log line, never all of it. */
function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

type EventsReply = Extract<NodeReplyMessage, { kind: 'events' }>;

/**
 * An `events` reply travels as bytes, not JSON (whose messages start with `{`):
 *
 *   byte 0      EVENTS_REPLY_MARKER (0)
 *   byte 1      flags: bit 0 = done
 *   bytes 2..5  seq, unsigned 32-bit big-endian
 *   byte 6      n = length of the request id (latin1)
 *   7 .. 7+n    the request id
 *   7+n ..      the SSE events, as the host sent them
 */
export const EVENTS_REPLY_MARKER = 0;
const EVENTS_HEADER_BYTES = 7;

export function encodeEventsReply(reply: EventsReply): Buffer {
  const idBytes = Buffer.byteLength(reply.requestId, 'latin1');
  if (idBytes > 255) throw new RangeError('request id longer than 255 bytes');
  const payload = Buffer.allocUnsafe(EVENTS_HEADER_BYTES + idBytes + reply.events.length);
  payload[0] = EVENTS_REPLY_MARKER;
  payload[1] = reply.done === true ? 1 : 0;
  payload.writeUInt32BE(reply.seq, 2);
  payload[6] = idBytes;
  payload.write(reply.requestId, EVENTS_HEADER_BYTES, 'latin1');
  reply.events.copy(payload, EVENTS_HEADER_BYTES + idBytes);
  return payload;
}

/** Null when `payload` is not a well-formed events reply; `events` is a view on `payload`. */
export function decodeEventsReply(payload: Buffer): EventsReply | null {
  if (payload.length < EVENTS_HEADER_BYTES || payload[0] !== EVENTS_REPLY_MARKER || payload[1] > 1)
    return null;
  const start = EVENTS_HEADER_BYTES + payload[6];
  if (payload[6] === 0 || payload.length < start) return null;
  return {
    kind: 'events',
    requestId: payload.toString('latin1', EVENTS_HEADER_BYTES, start),
    seq: payload.readUInt32BE(2),
    events: payload.subarray(start),
    ...(payload[1] === 1 && { done: true }),
  };
}
