import {
  MODEL_STATUSES,
  type HelloFrame,
  type HostToRegistryFrame,
  type ModelStatus,
  type RegistryToHostFrame,
} from './frames';
import { announcedEndpoints, checkHttpRequest, checkHttpResponse } from './http-frames';
import { isReplicaName } from './replicas';

/** What a host's `hello` may carry: the model list is stored and shown to every caller. */
export const HELLO_LIMITS = {
  agentChars: 200,
  models: 200,
  modelNameChars: 256,
  modelsTotalChars: 16 * 1024,
};

/** A `model_status` frame's `detail` is cut to this many characters (it is stored and shown to the owner). */
export const MODEL_STATUS_DETAIL_CHARS = 300;

const modelStatuses: ReadonlySet<unknown> = new Set(MODEL_STATUSES);
export const isModelStatus = (value: unknown): value is ModelStatus => modelStatuses.has(value);

/** Printable text only (control characters become spaces), cut to `max` characters. */
export function printable(text: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').slice(0, max);
}

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

/** The model names that fit the limits, in order; the rest are dropped (a long list is cut, not refused). */
function boundedModels(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const models: string[] = [];
  let total = 0;
  for (const name of value) {
    if (!isString(name) || name.length > HELLO_LIMITS.modelNameChars) continue;
    total += name.length;
    if (total > HELLO_LIMITS.modelsTotalChars || models.length === HELLO_LIMITS.models) break;
    models.push(name);
  }
  return models;
}

function decodeHello(obj: Record<string, unknown>): Decoded<HostToRegistryFrame> {
  const capabilities = obj.capabilities;
  if (capabilities !== undefined && (typeof capabilities !== 'object' || capabilities === null))
    return { ok: false, reason: 'invalid_fields' };
  const caps = capabilities as Record<string, unknown> | undefined;
  const frame: HelloFrame = {
    type: 'hello',
    version: isString(obj.version) ? obj.version.slice(0, 20) : undefined,
    agent: isString(obj.agent) ? obj.agent.slice(0, HELLO_LIMITS.agentChars) : undefined,
    replica: isReplicaName(obj.replica) ? obj.replica : undefined,
    capabilities: caps && {
      // Normalised (clamped) by whoever applies it.
      concurrency: caps.concurrency as number,
      cancel: caps.cancel === true,
      models: boundedModels(caps.models),
      endpoints: caps.endpoints === undefined ? undefined : announcedEndpoints(caps.endpoints),
      health: caps.health === true || undefined,
      binary_chunks: caps.binary_chunks === true || undefined,
    },
  };
  return { ok: true, frame };
}

/** Decodes a frame a host sent. Never throws. */
export function decodeHostFrame(text: string): Decoded<HostToRegistryFrame> {
  const obj = parseObject(text);
  if (typeof obj === 'string') return { ok: false, reason: obj };
  switch (obj.type) {
    case 'heartbeat':
      return { ok: true, frame: obj as unknown as HostToRegistryFrame };
    case 'hello':
      return decodeHello(obj);
    case 'model_status':
      if (!isModelStatus(obj.status)) return { ok: false, reason: 'invalid_fields' };
      if (obj.detail !== undefined && obj.detail !== null && !isString(obj.detail))
        return { ok: false, reason: 'invalid_fields' };
      return {
        ok: true,
        frame: {
          type: 'model_status',
          status: obj.status,
          detail: isString(obj.detail) ? printable(obj.detail, MODEL_STATUS_DETAIL_CHARS) : undefined,
        },
      };
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
    case 'http_response_head':
    case 'http_response_body':
    case 'http_response_end': {
      const frame = checkHttpResponse(obj);
      return frame ? { ok: true, frame } : { ok: false, reason: 'invalid_fields' };
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
    case 'http_request': {
      const frame = checkHttpRequest(obj);
      return frame ? { ok: true, frame } : { ok: false, reason: 'invalid_fields' };
    }
    default:
      return { ok: false, reason: 'unknown_type' };
  }
}
