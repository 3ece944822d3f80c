/** A failed API call, named as the user should read it: HTTP status plus the server's own message. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    readonly retryAfter?: string,
  ) {
    super(message);
  }

  /** One line for the page: "HTTP 503 · instance 'x' is not connected (retry in 2 s)". */
  describe(): string {
    const status = this.status ? `HTTP ${this.status} · ` : '';
    const retry = this.retryAfter ? ` (retry in ${this.retryAfter} s)` : '';
    return `${status}${this.message}${retry}`;
  }
}

interface ErrorBody {
  message?: unknown;
  code?: unknown;
  error?: { message?: unknown; code?: unknown };
}

/** Reads an error answer in either shape the registry uses (Second Me envelope or OpenAI error). */
export async function failureOf(response: Response): Promise<ApiFailure> {
  let body: ErrorBody = {};
  try {
    body = (await response.json()) as ErrorBody;
  } catch {
    // Not JSON (a proxy's page): the status alone must do.
  }
  const message = body.error?.message ?? body.message ?? response.statusText ?? 'request failed';
  const code = body.error?.code ?? body.code;
  return new ApiFailure(
    response.status,
    String(message),
    typeof code === 'string' ? code : undefined,
    response.headers.get('retry-after') ?? undefined,
  );
}

/** Calls an upload-style endpoint and unwraps its `{code, message, data}` envelope. */
export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown; authorization?: string } = {},
): Promise<T> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.authorization) headers.authorization = init.authorization;
  let response: Response;
  try {
    response = await fetch(path, {
      method: init.method ?? 'GET',
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  } catch {
    throw new ApiFailure(0, 'the registry cannot be reached (network error)');
  }
  if (!response.ok) throw await failureOf(response);
  const json = (await response.json()) as { data?: T };
  return (json.data ?? json) as T;
}

export const ownerAuth = (instanceId: string, password: string) => `Bearer ${instanceId}:${password}`;

export type InstanceStatus = 'registered' | 'online' | 'offline' | 'unregistered';

export type Visibility = 'public' | 'private';

export interface PublicCard {
  instance_id: string;
  visibility?: 'public';
  upload_name: string;
  description: string;
  status: InstanceStatus;
  models: string[];
}

/** A private instance's card names only its id, visibility and status. */
export type InstanceCard =
  PublicCard | { instance_id: string; visibility: 'private'; status: InstanceStatus };

export interface InstanceList {
  items: PublicCard[];
  pagination: { total: number };
}

export interface Registered {
  instance_id: string;
  instance_password: string;
  ws_url: string;
}

export interface InstanceDetail {
  instance_id: string;
  upload_name: string;
  description: string;
  email: string;
  config: unknown;
  status: InstanceStatus;
  is_connected: boolean;
  last_heartbeat: string | null;
  visibility: Visibility;
  policy: InstancePolicy | null;
  /** The models callers see (absent from older registries). */
  models?: string[];
  /** The connected agents (absent from registries older than replicas). */
  replicas?: ReplicaInfo[];
}

/** One connected agent of an instance. */
export interface ReplicaInfo {
  /** '' for a stock host, which sends no name. */
  name: string;
  node_id: string;
  connected_at: string;
  capacity: number;
  in_flight: number;
  draining: boolean;
}

/** What the registry enforces on every chat: allowed models or one pinned model, and a max_tokens ceiling. */
export interface InstancePolicy {
  allowed_models?: string[];
  pinned_model?: string;
  max_tokens?: number;
}

export interface AccessKey {
  key_id: string;
  name: string;
  prefix: string;
  rpm: number | null;
  max_concurrent: number | null;
  tokens_per_day: number | null;
  models: string[] | null;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked: boolean;
}

/** One page of `GET /api/upload/{id}/keys`, newest key first. */
export interface KeyPage {
  items: AccessKey[];
  pagination: { page_no: number; page_size: number; total: number; total_pages: number };
}

/** The answer to creating a key: the only time its secret is seen. */
export interface IssuedKey extends AccessKey {
  key: string;
}

export type Granularity = 'minute' | 'hour' | 'day';

/** Chats refused before they reached a host, by HTTP status. */
export type RefusedCounts = Record<'401' | '403' | '422' | '429' | '503', number>;

export interface UsagePeriod {
  start: string;
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  /** Absent from registries older than refusal counts. */
  refused?: RefusedCounts;
}

export interface UsageReport {
  from: string;
  to: string;
  granularity: Granularity;
  items: UsagePeriod[];
}
