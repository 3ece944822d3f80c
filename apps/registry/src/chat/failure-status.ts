import type { ChatFailureCode } from '@app/protocol';

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
};

/** HTTP status for a failure that happens before the answer started; 502 for a code this version does not know. */
export function failureStatus(code: ChatFailureCode): number {
  return Object.hasOwn(statusByCode, code) ? statusByCode[code] : 502;
}
