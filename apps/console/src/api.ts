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

export type {
  AccessKey,
  ClusterView,
  EndpointUsage,
  Granularity,
  InstanceCard,
  InstanceDetail,
  InstanceList,
  InstancePolicy,
  InstanceStatus,
  IssuedKey,
  KeyPage,
  NodeStats,
  RefusedCounts,
  ReplicaInfo,
  UsageEndpoint,
  UsagePeriod,
  UsageReport,
  Visibility,
} from '@app/contracts';
export { USAGE_ENDPOINTS } from '@app/contracts';

/** The register answer (`Registration`), under the name the pages use. */
export type { Registration as Registered } from '@app/contracts';
