import type { ChatFailureCode } from '@app/protocol';
import { ApiError } from '../common/http-errors';
import { utcDay } from '../keys/key-counters';

/** What one failure code means to a registry node: the caller's answer and what routing does next. */
export interface ChatFailure {
  /** HTTP status of the answer when it had not started (after that: an error event). */
  status: 429 | 501 | 502 | 503 | 504;
  /** Retry-After of that answer in seconds; `utc_day_end`: when the UTC day ends; null: none. */
  retryAfterS: number | 'utc_day_end' | null;
  /** Proves the replica produced no token, so another replica may run the chat (before the first token). */
  failover: boolean;
  /**
   * The replica is gone or out of reach (not refusing): routing forgets it, and when no replica is
   * left the chat waits for one to connect (CHAT_HOLD_MS) instead of getting this failure at once.
   */
  hold: boolean;
  /** The registry decided it, not the host: the host is told to stop the request. */
  cancelAtHost: boolean;
}

const gone = { failover: true, hold: true, cancelAtHost: false } as const;
const refused = { failover: true, hold: false, cancelAtHost: false } as const;
const final = { failover: false, hold: false, cancelAtHost: false } as const;
const registryStops = { failover: false, hold: false, cancelAtHost: true } as const;

/** Every code, one row (the Record type refuses a missing one). */
export const CHAT_FAILURES: Readonly<Record<ChatFailureCode, Readonly<ChatFailure>>> = {
  not_connected: { status: 503, retryAfterS: 1, ...gone },
  host_disconnected: { status: 503, retryAfterS: 1, ...gone },
  host_moved: { status: 503, retryAfterS: 1, ...gone },
  node_unreachable: { status: 503, retryAfterS: 1, ...gone },
  // Full or failing: waiting for another replica to connect would not change the answer.
  queue_full: { status: 429, retryAfterS: 1, ...refused },
  host_error: { status: 502, retryAfterS: null, ...refused },
  node_error: { status: 502, retryAfterS: null, ...final },
  instance_offline: { status: 503, retryAfterS: 5, ...final },
  // Connected, but no replica's model answers its agent's probe (agents probe every 5 s by default).
  model_unreachable: { status: 503, retryAfterS: 5, ...final },
  sequence_gap: { status: 502, retryAfterS: null, ...registryStops },
  timeout: { status: 504, retryAfterS: null, ...registryStops },
  shutting_down: { status: 503, retryAfterS: 1, ...registryStops },
  // Another replica (our agent) may serve it; waiting for one would not change this one's answer.
  endpoint_not_supported: { status: 501, retryAfterS: null, ...refused },
  // A key's daily budget comes back when the UTC day ends.
  tokens_per_day_exceeded: { status: 429, retryAfterS: 'utc_day_end', ...registryStops },
};

/** The row of `code`; a code this version does not know (a newer node's) means what `node_error` does. */
export const chatFailure = (code: ChatFailureCode): Readonly<ChatFailure> =>
  Object.hasOwn(CHAT_FAILURES, code) ? CHAT_FAILURES[code] : CHAT_FAILURES.node_error;

/** HTTP status for a failure that happens before the answer started. */
export const failureStatus = (code: ChatFailureCode): number => chatFailure(code).status;

/** Retry-After header value of that answer; undefined: none. */
export function failureRetryAfter(code: ChatFailureCode): string | undefined {
  const seconds = chatFailure(code).retryAfterS;
  if (seconds === null) return undefined;
  return String(seconds === 'utc_day_end' ? Math.ceil(utcDay().endsInMs / 1000) : seconds);
}

/** The failure as an answer thrown before the chat was taken on (the row's status and Retry-After). */
export function failureError(code: ChatFailureCode, message: string): ApiError {
  const retryAfter = failureRetryAfter(code);
  return new ApiError(failureStatus(code), message, {
    code,
    headers: retryAfter === undefined ? undefined : { 'retry-after': retryAfter },
  });
}
