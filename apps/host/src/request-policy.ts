/**
 * What the owner of a host lets anonymous callers control upstream: the caller's body passes
 * through untouched (tools, response_format, extendData, ...) except for what this pins down.
 */
export interface RequestPolicy {
  /** --model: the model for requests that name none; with `pinModel`, the only one. */
  model?: string;
  /** --pin-model: every request's `model` is replaced with `model`. */
  pinModel: boolean;
  /** --max-tokens: caps max_tokens, max_completion_tokens and llama.cpp's n_predict; filled in when absent. */
  maxTokens?: number;
  /** --max-n: caps `n` (answers per request) and `best_of`. */
  maxN: number;
  /** --allow-upstream-overrides: keep the fields of UPSTREAM_OVERRIDE_FIELDS. */
  allowUpstreamOverrides: boolean;
}

/**
 * Body fields that some OpenAI-compatible servers (LiteLLM proxies, vLLM and SGLang disaggregated
 * serving, SDK-style wrappers) honour to change the credentials, target host or provider of the
 * upstream call. Dropped unless --allow-upstream-overrides; matched case-insensitively.
 */
export const UPSTREAM_OVERRIDE_FIELDS: readonly string[] = [
  'api_key',
  'api_base',
  'base_url',
  'api_version',
  'api_type',
  'organization',
  'headers',
  'extra_headers',
  'extra_query',
  'extra_body',
  'custom_llm_provider',
  'user_config',
  'model_list',
  'fallbacks',
  'context_window_fallbacks',
  'content_policy_fallbacks',
  'kv_transfer_params',
  'bootstrap_host',
  'bootstrap_port',
];

/** Provider credential families (LiteLLM's aws_access_key_id, azure_ad_token, vertex_credentials, ...). */
export const UPSTREAM_OVERRIDE_PREFIXES: readonly string[] = ['aws_', 'azure_', 'vertex_'];

const overrideFields = new Set(UPSTREAM_OVERRIDE_FIELDS);

function isUpstreamOverride(field: string): boolean {
  const name = field.toLowerCase();
  return overrideFields.has(name) || UPSTREAM_OVERRIDE_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/** A caller's value is kept only when it is a whole number within 1..cap. */
const within = (value: unknown, cap: number) =>
  typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= cap;

const TOKEN_FIELDS = ['max_tokens', 'max_completion_tokens', 'n_predict'] as const;
const CHOICE_FIELDS = ['n', 'best_of'] as const;

/**
 * The body to send upstream under `policy`, and one line per change for the debug log.
 * Never modifies `request`.
 */
export function applyRequestPolicy(
  request: Record<string, unknown>,
  policy: RequestPolicy,
): { body: Record<string, unknown>; changes: string[] } {
  const body: Record<string, unknown> = {};
  const dropped: string[] = [];
  for (const [key, value] of Object.entries(request)) {
    if (!policy.allowUpstreamOverrides && isUpstreamOverride(key)) dropped.push(key);
    else body[key] = value;
  }
  const changes = dropped.length > 0 ? [`dropped ${dropped.join(', ')}`] : [];
  const cap = (field: string, max: number) => {
    if (!(field in body) || within(body[field], max)) return;
    changes.push(`${field} ${JSON.stringify(body[field])} -> ${max}`);
    body[field] = max;
  };

  if (policy.pinModel && policy.model !== undefined && body.model !== policy.model) {
    if (body.model !== undefined) changes.push(`model ${JSON.stringify(body.model)} -> ${policy.model}`);
    body.model = policy.model;
  }
  if (policy.maxTokens !== undefined) {
    for (const field of TOKEN_FIELDS) cap(field, policy.maxTokens);
    if (!('max_tokens' in body) && !('max_completion_tokens' in body)) {
      body.max_tokens = policy.maxTokens;
      changes.push(`max_tokens set to ${policy.maxTokens}`);
    }
  }
  for (const field of CHOICE_FIELDS) cap(field, policy.maxN);
  return { body, changes };
}
