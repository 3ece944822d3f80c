import type { ChatResponseFrame, HttpResponseFrame } from '@app/protocol';

/**
 * An answer to `http_request` travels the chat's way from here on (scheduler, cluster bus,
 * failover, metering) as "lines": the first is the head as JSON, the others are body text. Only
 * the caller's side (passthrough/PassthroughExchange) reads them, with `readHeadLine`.
 */
export function asChatResponse(frame: HttpResponseFrame): ChatResponseFrame {
  const request_id = frame.request_id;
  switch (frame.type) {
    case 'http_response_head':
      return {
        type: 'chat_response',
        request_id,
        raw_sse: JSON.stringify({ status: frame.status, content_type: frame.content_type }),
      };
    case 'http_response_body':
      return { type: 'chat_response', request_id, raw_sse: frame.data };
    case 'http_response_end':
      return frame.error === undefined
        ? { type: 'chat_response', request_id, done: true }
        : { type: 'chat_response', request_id, error: frame.error };
  }
}

export interface ResponseHead {
  status: number;
  contentType: string;
}

/** The head line `asChatResponse` made; null if it is not one (a host that broke the order). */
export function readHeadLine(line: string): ResponseHead | null {
  try {
    const head = JSON.parse(line) as { status?: unknown; content_type?: unknown };
    if (typeof head.status !== 'number' || typeof head.content_type !== 'string') return null;
    return { status: head.status, contentType: head.content_type };
  } catch {
    return null;
  }
}
