import type { HostToRegistryFrame, RegistryToHostFrame } from './frames';

/** Why a frame was dropped; the caller counts these. */
export type DecodeFailure = 'malformed_json' | 'not_an_object' | 'unknown_type' | 'invalid_fields';

export type Decoded<T> = { ok: true; frame: T } | { ok: false; reason: DecodeFailure };

function parseObject(text: string): Record<string, unknown> | DecodeFailure {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'malformed_json';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not_an_object';
  return value as Record<string, unknown>;
}

const isString = (v: unknown): v is string => typeof v === 'string';

/** Decodes a frame a host sent. Never throws. */
export function decodeHostFrame(text: string): Decoded<HostToRegistryFrame> {
  const obj = parseObject(text);
  if (typeof obj === 'string') return { ok: false, reason: obj };
  switch (obj.type) {
    case 'heartbeat':
      return { ok: true, frame: obj as unknown as HostToRegistryFrame };
    case 'hello':
      if (
        obj.capabilities !== undefined &&
        (typeof obj.capabilities !== 'object' || obj.capabilities === null)
      )
        return { ok: false, reason: 'invalid_fields' };
      return { ok: true, frame: obj as unknown as HostToRegistryFrame };
    case 'chat_response': {
      if (!isString(obj.request_id)) return { ok: false, reason: 'invalid_fields' };
      if (obj.raw_sse !== undefined && !isString(obj.raw_sse)) return { ok: false, reason: 'invalid_fields' };
      if (
        obj.raw_sse_batch !== undefined &&
        !(Array.isArray(obj.raw_sse_batch) && obj.raw_sse_batch.every(isString))
      )
        return { ok: false, reason: 'invalid_fields' };
      if (obj.error !== undefined && obj.error !== null && !isString(obj.error))
        return { ok: false, reason: 'invalid_fields' };
      return { ok: true, frame: obj as unknown as HostToRegistryFrame };
    }
    default:
      return { ok: false, reason: 'unknown_type' };
  }
}

/** Decodes a frame the registry sent (used by the agent). Never throws. */
export function decodeRegistryFrame(text: string): Decoded<RegistryToHostFrame> {
  const obj = parseObject(text);
  if (typeof obj === 'string') return { ok: false, reason: obj };
  switch (obj.type) {
    case 'heartbeat_ack':
      return { ok: true, frame: { type: 'heartbeat_ack' } };
    case 'chat':
      if (!isString(obj.request_id) || typeof obj.request !== 'object' || obj.request === null)
        return { ok: false, reason: 'invalid_fields' };
      return { ok: true, frame: obj as unknown as RegistryToHostFrame };
    case 'cancel':
      if (!isString(obj.request_id)) return { ok: false, reason: 'invalid_fields' };
      return { ok: true, frame: obj as unknown as RegistryToHostFrame };
    case 'goaway':
      return { ok: true, frame: { type: 'goaway', reason: isString(obj.reason) ? obj.reason : '' } };
    default:
      return { ok: false, reason: 'unknown_type' };
  }
}
