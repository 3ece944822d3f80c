/** Who may see and chat with an instance. `public` is the default (stock Second Me behaviour). */
export const VISIBILITIES = ['public', 'private'] as const;
export type Visibility = (typeof VISIBILITIES)[number];

/** What the owner allows every caller to ask of the model; enforced by the registry before routing. */
export interface InstancePolicy {
  /** Only these models may be named (a request naming none goes to the host's default). */
  allowed_models?: string[];
  /** Every request gets this model (filled in when absent; another one is refused). */
  pinned_model?: string;
  /** Ceiling of every token field (see holdTokenFields); a request without max_tokens gets at most this. */
  max_tokens?: number;
}

export const asVisibility = (value: unknown): Visibility => (value === 'private' ? 'private' : 'public');

/** The stored JSON as a policy (null when the owner set none). */
export function asPolicy(value: unknown): InstancePolicy | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const raw = value as Record<string, unknown>;
  const policy: InstancePolicy = {};
  if (Array.isArray(raw.allowed_models))
    policy.allowed_models = raw.allowed_models.filter((m): m is string => typeof m === 'string');
  if (typeof raw.pinned_model === 'string') policy.pinned_model = raw.pinned_model;
  if (typeof raw.max_tokens === 'number') policy.max_tokens = raw.max_tokens;
  return Object.keys(policy).length > 0 ? policy : null;
}
