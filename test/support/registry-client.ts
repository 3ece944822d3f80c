/** Small HTTP helpers for tests that talk to a running registry. */
import type { Envelope, InstanceDetail, Registration } from '@app/contracts';
import { eventually } from './eventually';
import { RawWsClient } from './raw-ws-client';
export { eventually };

export interface Registered {
  instanceId: string;
  password: string;
  auth: string;
}

export async function registerInstance(baseUrl: string, name = 'e2e model'): Promise<Registered> {
  const res = await fetch(`${baseUrl}/api/upload/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      upload_name: name,
      instance_id: null,
      description: '',
      email: '',
      config: { model_name: 'fake-model' },
    }),
  });
  if (res.status !== 200) throw new Error(`register answered ${res.status}: ${await res.text()}`);
  const data = ((await res.json()) as Envelope<Registration>).data!;
  return {
    instanceId: data.instance_id,
    password: data.instance_password,
    auth: `Bearer ${data.instance_id}:${data.instance_password}`,
  };
}

export async function instanceDetail(baseUrl: string, instance: Registered): Promise<InstanceDetail> {
  const res = await fetch(`${baseUrl}/api/upload/${instance.instanceId}`, {
    headers: { authorization: instance.auth },
  });
  if (res.status !== 200) throw new Error(`detail answered ${res.status}`);
  return ((await res.json()) as Envelope<InstanceDetail>).data!;
}

/** The names of the replicas the detail lists (via `baseUrl`), in its order. */
export async function replicaNames(baseUrl: string, instance: Registered): Promise<string[]> {
  return ((await instanceDetail(baseUrl, instance)).replicas ?? []).map((r) => r.name);
}

/** A labelled counter of a node's GET /metrics, as label value → count (e.g. `registry_chats_total` by `outcome`). */
export async function metricCounts(
  baseUrl: string,
  metric: string,
  label: string,
): Promise<Record<string, number>> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = new RegExp(`^${metric}\\{${label}="([^"]+)"\\} (\\d+)$`, 'gm');
  const out: Record<string, number> = {};
  for (const [, value, count] of text.matchAll(line)) out[value] = Number(count);
  return out;
}

/** Waits until the detail via each of `baseUrls` lists exactly these replicas (by name, in order). */
export async function waitForReplicas(
  baseUrls: string[],
  instance: Registered,
  names: string[],
  timeoutMs = 3_000,
): Promise<void> {
  for (const baseUrl of baseUrls) {
    let seen: unknown = null;
    await eventually(async () => {
      seen = await replicaNames(baseUrl, instance);
      return JSON.stringify(seen) === JSON.stringify(names);
    }, timeoutMs).catch(() => {
      throw new Error(
        `${baseUrl} lists replicas ${JSON.stringify(seen)} after ${timeoutMs} ms, not ${JSON.stringify(names)}`,
      );
    });
  }
}

/**
 * A host of the instance connects to `node` and leaves again, as an agent restarting would: the
 * instance is then `offline` but "seen lately", so chats to it are held (CHAT_HOLD_RECENT_MS)
 * instead of answered 503 at once like those of an instance that never had a host.
 */
export async function connectAndLeave(
  node: { url: string; port: number },
  instance: Registered,
): Promise<void> {
  const host = await RawWsClient.open(
    node.port,
    `/api/ws/${instance.instanceId}?password=${encodeURIComponent(instance.password)}`,
  );
  await eventually(async () => (await instanceDetail(node.url, instance)).status === 'online', 5_000);
  host.destroy();
  await eventually(async () => (await instanceDetail(node.url, instance)).status === 'offline', 5_000);
}
