import type { Pagination } from './answers';

/** A role of an instance (`POST /api/roles`, `GET /api/roles/{id}`). */
export interface Role {
  role_id: string;
  instance_id: string;
  name: string;
  description: string;
  system_prompt: string;
  is_active: boolean;
  icon: string;
  enable_l0_retrieval: boolean;
  enable_l1_retrieval: boolean;
  created_at: string;
  updated_at: string;
}

export interface RoleList {
  items: Role[];
}

/** `DELETE /api/roles/{id}/{role_id}`. */
export interface RoleRemoval {
  instance_id: string;
  role_id: string;
}

/** What the owner sees of an access key: everything but the secret. */
export interface AccessKey {
  key_id: string;
  name: string;
  prefix: string;
  rpm: number | null;
  max_concurrent: number | null;
  tokens_per_day: number | null;
  models: string[] | null;
  /** Endpoints the key may call (any of USAGE_ENDPOINTS: `chat`, `embeddings`, …, `transcriptions`); null: all. */
  endpoints: string[] | null;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked: boolean;
  revoked_at: string | null;
}

/** The answer to creating a key: the only time its secret is seen. */
export interface IssuedKey extends AccessKey {
  key: string;
}

/** One page of `GET /api/upload/{id}/keys`, newest key first. */
export interface KeyPage {
  items: AccessKey[];
  pagination: Pagination;
}

export const GRANULARITIES = ['minute', 'hour', 'day'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

/**
 * What usage is counted under: `chat` (`/api/chat/{id}` and `/chat/completions`), or an endpoint the
 * registry relays besides chat (the protocol library's PASSTHROUGH_ENDPOINTS; a usage spec holds the
 * two lists together, since this library is also the console's and does not import the protocol).
 */
export const USAGE_ENDPOINTS = [
  'chat',
  'embeddings',
  'completions',
  'responses',
  'messages',
  'rerank',
  'transcriptions',
] as const;
export type UsageEndpoint = (typeof USAGE_ENDPOINTS)[number];

/** One period of `GET /api/upload/{id}/usage`. */
export interface UsagePeriod {
  start: string;
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  /** Mean time to first token of the period's chats that got one (ms), null if none did. */
  avg_ttft_ms: number | null;
  /** Chats refused before they reached a host, by status (apart from `requests`). */
  refused: RefusedCounts;
}

/** Chats refused before they reached a host, by HTTP status. */
export type RefusedCounts = Record<'401' | '403' | '422' | '429' | '503', number>;

/** One endpoint's totals over a whole usage answer. */
export interface EndpointUsage {
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  /** Calls refused before they reached a host, by status (apart from `requests`). */
  refused: RefusedCounts;
}

export interface UsageReport {
  from: string;
  to: string;
  granularity: Granularity;
  items: UsagePeriod[];
  /** The window's totals per endpoint; endpoints without a call or refusal are left out. */
  by_endpoint: Partial<Record<UsageEndpoint, EndpointUsage>>;
}
