/** Where a host's answer to one chat goes: the caller's HTTP response, or a Redis reply channel. */
export interface ChatSink {
  /** One or more SSE `data:` payloads (chunk JSON strings), in order. */
  lines(lines: string[]): void;
  /** The host sent `done`: the answer is complete. */
  done(): void;
  /** The request failed; nothing more follows. */
  error(code: ChatFailureCode, message: string): void;
}

export type ChatFailureCode =
  | 'host_error'
  | 'host_disconnected'
  /** Never reached the host: it moved to another connection first (safe to send again). */
  | 'host_moved'
  | 'host_busy'
  | 'queue_full'
  | 'not_connected'
  | 'node_unreachable'
  | 'sequence_gap'
  | 'timeout'
  | 'cancelled'
  | 'shutting_down';
