import type { ChatFailureCode } from '@app/protocol';
import { utcDay } from '../keys/key-counters';

const statusByCode: Record<ChatFailureCode, number> = {
  queue_full: 429,
  not_connected: 503,
  host_disconnected: 503,
  host_moved: 503,
  node_unreachable: 503,
  shutting_down: 503,
  instance_offline: 503,
  timeout: 504,
  host_error: 502,
  node_error: 502,
  sequence_gap: 502,
  tokens_per_day_exceeded: 429,
};

/** HTTP status for a failure that happens before the answer started; 502 for a code this version does not know. */
export function failureStatus(code: ChatFailureCode): number {
  return Object.hasOwn(statusByCode, code) ? statusByCode[code] : 502;
}

/** Retry-After (seconds) of a failure answered before the stream started; undefined: none. */
export function failureRetryAfter(code: ChatFailureCode, status = failureStatus(code)): string | undefined {
  if (code === 'instance_offline') return '5';
  // A key's daily budget comes back when the UTC day ends.
  if (code === 'tokens_per_day_exceeded') return String(Math.ceil(utcDay().endsInMs / 1000));
  return status === 503 || status === 429 ? '1' : undefined;
}

/** Failures the registry decides on its own (not the host's): the host must still be told to stop. */
const CANCEL_AT_HOST: ReadonlySet<ChatFailureCode> = new Set([
  'timeout',
  'sequence_gap',
  'shutting_down',
  'tokens_per_day_exceeded',
]);

export const failureCancelsHost = (code: ChatFailureCode): boolean => CANCEL_AT_HOST.has(code);
