import { PASSTHROUGH_ENDPOINTS } from '@app/protocol';
import { asPolicy } from './instance-policy';
import type { InstanceRecord } from './instances.repository';

/**
 * The models callers see (the public card, the list, `GET …/models`): what the host announced from
 * its model server's `/models` once it has announced (a hello), even none; before any announcement
 * (never connected, or a stock Second Me host, which sends no hello), the model named at
 * registration (`config.model_name`). So a registered name the host does not serve is never shown
 * as available.
 */
export function publicModels(record: Pick<InstanceRecord, 'hostModels' | 'config'> | null): string[] {
  if (Array.isArray(record?.hostModels))
    return [...new Set(record.hostModels.filter((m): m is string => typeof m === 'string' && m !== ''))];
  const named = (record?.config as { model_name?: unknown } | null)?.model_name;
  return typeof named === 'string' && named !== '' ? [named] : [];
}

/**
 * The endpoints under the instance's URL its callers can use: chat, and the others as the host's
 * last `hello` announced them (a stock Second Me host, which sends none, serves chat only), less
 * those the owner's policy leaves out.
 */
export function servedEndpoints(record: Pick<InstanceRecord, 'hostEndpoints' | 'policy'>): string[] {
  const announced = Array.isArray(record.hostEndpoints) ? record.hostEndpoints : [];
  const allowed = asPolicy(record.policy)?.endpoints;
  return ['chat', ...PASSTHROUGH_ENDPOINTS.filter((endpoint) => announced.includes(endpoint))].filter(
    (endpoint) => !allowed || allowed.includes(endpoint),
  );
}
