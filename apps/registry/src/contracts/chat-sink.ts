import { eventPayloads, type ChatFailureCode } from '@app/protocol';

/** Where a host's answer to one chat goes: the caller's HTTP response, or a Redis reply channel. */
export interface ChatSink {
  /** One or more SSE `data:` payloads (chunk JSON strings), in order. */
  lines(lines: string[]): void;
  /**
   * The same, as the whole SSE events they are (`data: …\n\n` each) from a binary chunk frame:
   * a sink that can pass bytes on without looking inside takes them as they are. Optional: a sink
   * without it gets `lines` (see `deliverEvents`).
   */
  rawEvents?(events: Buffer): void;
  /** The host sent `done`: the answer is complete. */
  done(): void;
  /** The request failed; nothing more follows. */
  error(code: ChatFailureCode, message: string): void;
}

/** Hands whole SSE events to a sink: as bytes when it takes them, else as payloads. */
export function deliverEvents(sink: ChatSink, events: Buffer): void {
  if (sink.rawEvents) sink.rawEvents(events);
  else sink.lines(eventPayloads(events));
}
