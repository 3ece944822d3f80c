/**
 * WebSocket frames between a host (our agent or a stock Second Me client) and a registry node.
 * The Second Me frames are the contract; `hello`, `cancel` and `goaway` are our extensions,
 * which a stock host ignores.
 */

import type { HttpRequestFrame, HttpResponseFrame, PassthroughEndpoint } from './http-frames';

export const PROTOCOL_VERSION = '1.0';

/** Close codes of our own (4000-4999 is the application range). */
export const CloseCodes = {
  /** A newer connection for the same instance took over. */
  Superseded: 4409,
  /** The instance was deleted while connected. */
  Unregistered: 4404,
  /** The instance's password changed (re-registration) after this socket authenticated with the old one. */
  CredentialsRotated: 4401,
  /** The host broke the protocol badly enough to be dropped. */
  ProtocolError: 4400,
  /** The instance already has as many replicas connected as the registry allows (REPLICAS_PER_INSTANCE). */
  TooManyReplicas: 4429,
  /** Standard: endpoint going away (node draining). */
  GoingAway: 1001,
  /** Standard: message too big. */
  TooBig: 1009,
  /** Standard: service restart. */
  ServiceRestart: 1012,
} as const;

export interface HostCapabilities {
  /** How many chats the host serves at once. */
  concurrency: number;
  /** Whether the host honours `cancel`. */
  cancel: boolean;
  /** Model ids of the host's upstream, from its `/models`. */
  models?: string[];
  /** Endpoints besides chat it serves through `http_request` (see http-frames.ts); none: chat only. */
  endpoints?: PassthroughEndpoint[];
  /** The host reports its model server's health in `model_status` frames (ours; see ModelStatusFrame). */
  health?: boolean;
  /**
   * The host sends chat chunks as binary chunk frames (see chunk-frames.ts), which it does only
   * after the registry offered them in the upgrade's response header.
   */
  binary_chunks?: boolean;
}

/** How a host's model server answered its last health probe. */
export const MODEL_STATUSES = ['ok', 'unreachable', 'error'] as const;
export type ModelStatus = (typeof MODEL_STATUSES)[number];

// ---- host -> registry ----

export interface HeartbeatFrame {
  type: 'heartbeat';
  data?: { timestamp?: number; instance_id?: string; status?: string };
  version?: string;
}

export interface HelloFrame {
  type: 'hello';
  version?: string;
  agent?: string;
  /** The replica this connection serves (informational: the upgrade request's `X-Replica` decides). */
  replica?: string;
  capabilities?: Partial<HostCapabilities>;
}

/**
 * One frame per SSE `data:` line of the model's answer (`raw_sse` is the chunk JSON as a string),
 * `done: true` at `[DONE]`, or `error` on failure (an error ends the request; no `done` follows).
 * Our agent may put several lines of one upstream read into `raw_sse_batch` (an extension) to
 * save frames; a stock host never does.
 */
export interface ChatResponseFrame {
  type: 'chat_response';
  request_id: string;
  raw_sse?: string;
  raw_sse_batch?: string[];
  done?: boolean;
  error?: string;
}

/**
 * Ours, only from a host whose hello said `capabilities.health: true`: how its model server
 * answered the last probe — `ok`, `unreachable` (no HTTP answer: refused, reset, timed out) or
 * `error` (an answer that is not a usable one: HTTP 4xx/5xx, no model list). Sent when the status
 * changes (and after each hello); `detail` is the host's own words, for the instance's owner only.
 */
export interface ModelStatusFrame {
  type: 'model_status';
  status: ModelStatus;
  detail?: string;
}

export type HostToRegistryFrame =
  HeartbeatFrame | HelloFrame | ChatResponseFrame | ModelStatusFrame | HttpResponseFrame;

// ---- registry -> host ----

export interface HeartbeatAckFrame {
  type: 'heartbeat_ack';
}

export interface ChatFrame {
  type: 'chat';
  request_id: string;
  request: ChatRequestBody;
}

export interface CancelFrame {
  type: 'cancel';
  request_id: string;
}

export interface GoawayFrame {
  type: 'goaway';
  reason: string;
}

export type RegistryToHostFrame =
  HeartbeatAckFrame | ChatFrame | CancelFrame | GoawayFrame | HttpRequestFrame;

/**
 * The chat body as sent to a host: the caller's fields, validated, stream forced on. On the bare
 * Second Me route temperature and max_tokens are always filled in; on `/chat/completions` only
 * what the caller (or the owner's ceiling) set.
 */
export interface ChatRequestBody {
  messages: Array<{ role: string; content: unknown; [k: string]: unknown }>;
  stream: true;
  temperature?: number;
  max_tokens?: number;
  metadata?: { enable_l0_retrieval?: boolean; role_id?: string; [k: string]: unknown };
  [field: string]: unknown;
}
