import { ApiError } from '../common/http-errors';
import type { InstancePolicy } from '@app/contracts';
import { holdTokenFields } from './token-ceiling';

/** The part of a key the policy looks at. */
export interface KeyScope {
  models: ReadonlySet<string> | null;
  firstModel: string | null;
}

const modelNotAllowed = (model: string, why: string) =>
  new ApiError(403, `model '${model}' is not allowed ${why}`, { code: 'model_not_allowed', param: 'model' });

/**
 * Applies the owner's policy and the key's model list to the body the host will get: fills in the
 * model when the caller named none (pinned, else the first allowed), refuses others with 403, and
 * holds every token field to the owner's ceiling (see holdTokenFields).
 */
export function applyChatPolicy(
  hostBody: Record<string, unknown>,
  raw: Record<string, unknown>,
  policy: InstancePolicy | null,
  key: KeyScope | null,
): void {
  const named = typeof hostBody.model === 'string' && hostBody.model !== '' ? hostBody.model : null;
  let model = named;
  if (policy?.pinned_model !== undefined) {
    if (model !== null && model !== policy.pinned_model)
      throw modelNotAllowed(model, `on this instance (its owner pinned '${policy.pinned_model}')`);
    model = policy.pinned_model;
  } else if (policy?.allowed_models !== undefined) {
    if (model !== null && !policy.allowed_models.includes(model))
      throw modelNotAllowed(model, `on this instance (allowed: ${policy.allowed_models.join(', ')})`);
    model ??= policy.allowed_models[0] ?? null;
  }
  if (key?.models) {
    if (model !== null && !key.models.has(model)) throw modelNotAllowed(model, 'for this access key');
    model ??= key.firstModel;
  }
  if (model !== null && model !== named) hostBody.model = model;

  if (policy?.max_tokens !== undefined) holdTokenFields(hostBody, raw, policy.max_tokens);
}

/**
 * The owner's endpoint list (absent: all): 403 for an endpoint left out of it, whoever calls, in
 * the called API's shape (the error filter picks it from the route).
 */
export function assertEndpointAllowed(policy: InstancePolicy | null, endpoint: string): void {
  if (policy?.endpoints && !policy.endpoints.includes(endpoint))
    throw new ApiError(403, `the owner of this instance does not allow ${endpoint}`, {
      code: 'endpoint_not_allowed',
    });
}

/** The model ids a caller may use, for `/models`: the owner's policy, then the key's list. */
export function visibleModels(
  hostModels: string[],
  policy: InstancePolicy | null,
  key: KeyScope | null,
): string[] {
  const byPolicy = policy?.pinned_model !== undefined ? [policy.pinned_model] : policy?.allowed_models;
  if (!key?.models) return byPolicy ?? hostModels;
  const allowed = key.models;
  return byPolicy ? byPolicy.filter((m) => allowed.has(m)) : [...allowed];
}
