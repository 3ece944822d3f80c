import type { ChatFailureCode } from '@app/protocol';

/** Where a host's answer to one chat goes: the caller's HTTP response, or a Redis reply channel. */
export interface ChatSink {
  /** One or more SSE `data:` payloads (chunk JSON strings), in order. */
  lines(lines: string[]): void;
  /** The host sent `done`: the answer is complete. */
  done(): void;
  /** The request failed; nothing more follows. */
  error(code: ChatFailureCode, message: string): void;
}
