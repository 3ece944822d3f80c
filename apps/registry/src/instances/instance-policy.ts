import type { InstancePolicy, Visibility } from '@app/contracts';

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
  if (Array.isArray(raw.endpoints))
    policy.endpoints = raw.endpoints.filter((e): e is string => typeof e === 'string');
  return Object.keys(policy).length > 0 ? policy : null;
}
