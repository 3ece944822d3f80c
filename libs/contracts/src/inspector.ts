/** How a request to an instance ended, as the owner's inspector lists it. */
export const REQUEST_OUTCOMES = ['answered', 'refused', 'failed', 'left'] as const;
export type RequestOutcome = (typeof REQUEST_OUTCOMES)[number];

/** What `status` filters on: an HTTP status class, or how the request ended. */
export const REQUEST_FILTERS = ['2xx', '4xx', '5xx', ...REQUEST_OUTCOMES] as const;
export type RequestFilter = (typeof REQUEST_FILTERS)[number];

/** One request as a node recorded it when it ended (also what nodes send each other). */
export interface RecordedRequest {
  /** The registry's own id of the request (unique across the cluster). */
  id: string;
  /** When it ended, ms since the epoch (the recording node's clock). */
  at: number;
  /** The route called, as a template: `/api/chat/{id}` or `/api/chat/{id}/chat/completions`. */
  endpoint: string;
  model: string | null;
  key_id: string | null;
  /** The HTTP status the caller got; 499 when the caller left before any answer. */
  status: number;
  /** The failure code (`invalid_value`, `host_error`, `caller_gone`…); null when answered. */
  code: string | null;
  outcome: RequestOutcome;
  /** Time to first token, ms from arrival; null when no token came. */
  ttft_ms: number | null;
  duration_ms: number;
  tokens_in: number;
  tokens_out: number;
  /** The node that took the caller's request. */
  node: string;
  /** The node whose host answered, and the replica's name ('' for the unnamed one); null if none. */
  served_by_node: string | null;
  replica: string | null;
  /** The caller's address, masked to its /24 (IPv4) or /48 (IPv6). */
  caller: string;
  /** The `X-Request-Id` the caller saw (their own when they sent a valid one). */
  request_id: string | null;
  /** Set by the node that answers an inspection: it still holds this request's captured bodies. */
  captured?: boolean;
}

/** A row of `GET /api/upload/{id}/requests`: the record, its time as ISO 8601 and the key's name. */
export interface InspectedRequest extends Omit<RecordedRequest, 'at'> {
  at: string;
  key_name: string | null;
  /** Whether a node still holds this request's captured bodies (see `/requests/{request_id}/body`). */
  captured: boolean;
}

/** `GET /api/upload/{id}/requests`: newest first, from every node that answered in time. */
export interface RequestList {
  items: InspectedRequest[];
  /** Nodes asked, and those that did not answer in time (their requests are missing). */
  nodes: { asked: number; answered: number; skipped: string[] };
}

/** `GET/PUT /api/upload/{id}/capture`: whether bodies are captured, and until when (ISO 8601; null: off). */
export interface CaptureState {
  until: string | null;
}

/** `GET /api/upload/{id}/requests/{request_id}/body`: what was captured of one request, each cut at 32 KiB. */
export interface CapturedBody {
  /** The request body as the caller sent it (JSON text). */
  request: string;
  request_truncated: boolean;
  /** The answer's text as assembled from the model's chunks. */
  response: string;
  response_truncated: boolean;
}
