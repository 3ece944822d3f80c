import type { ChatFailureCode } from '../hosts/chat-sink';

/** HTTP status for a failure that happens before the answer started. */
export function failureStatus(code: ChatFailureCode): number {
  switch (code) {
    case 'queue_full':
    case 'host_busy':
      return 429;
    case 'not_connected':
    case 'host_disconnected':
    case 'host_moved':
    case 'node_unreachable':
    case 'shutting_down':
      return 503;
    case 'timeout':
      return 504;
    case 'host_error':
    case 'sequence_gap':
      return 502;
    case 'cancelled':
      return 499;
  }
}
