/**
 * Why a chat failed: what a registry node answers the caller (the OpenAI error's `code`) and what
 * nodes tell each other in reply `error` messages. What each one means to a node (HTTP status,
 * Retry-After, failover, hold, cancel at the host) is one table: the registry's `chat/chat-failures.ts`.
 */
export const CHAT_FAILURE_CODES = [
  /** The host reported an error. */
  'host_error',
  /** The host's socket closed during the request. */
  'host_disconnected',
  /** Never reached the host: it moved to another connection first (safe to send again). */
  'host_moved',
  /** Too many requests are waiting for this instance. */
  'queue_full',
  /** No host socket for the instance (here, or on the node presence named). */
  'not_connected',
  /** The node holding the host went away, or this node lost Redis. */
  'node_unreachable',
  /** Another node sent a failure this node cannot read (unknown code, e.g. during a rolling upgrade, or malformed). */
  'node_error',
  /** Part of the answer was lost between nodes. */
  'sequence_gap',
  /** The model took too long. */
  'timeout',
  /** This node is stopping. */
  'shutting_down',
  /** No replica of the instance connected (within the hold, CHAT_HOLD_MS). */
  'instance_offline',
  /** Replicas are connected but none of their model servers answers its agent's health probe. */
  'model_unreachable',
  /** The caller's access key used its tokens_per_day: the answer ends where the budget did. */
  'tokens_per_day_exceeded',
  /** The replica does not serve this endpoint (a stock Second Me host serves chat only). */
  'endpoint_not_supported',
] as const;

export type ChatFailureCode = (typeof CHAT_FAILURE_CODES)[number];

const known: ReadonlySet<unknown> = new Set(CHAT_FAILURE_CODES);

export const isChatFailureCode = (value: unknown): value is ChatFailureCode => known.has(value);
