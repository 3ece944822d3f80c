/** Small HTTP helpers for tests that talk to a running registry. */
export { eventually } from './eventually';

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
  const { data } = (await res.json()) as { data: { instance_id: string; instance_password: string } };
  return {
    instanceId: data.instance_id,
    password: data.instance_password,
    auth: `Bearer ${data.instance_id}:${data.instance_password}`,
  };
}

/** One agent serving an instance, as the instance detail lists it (issue #13). */
export interface ReplicaDetail {
  name: string;
  node_id: string;
  connected_at: string;
  capacity: number;
  in_flight: number;
  draining: boolean;
}

export interface InstanceDetail {
  status: string;
  is_connected: boolean;
  last_heartbeat: string | null;
  /** Absent from a registry without replicas. */
  replicas?: ReplicaDetail[];
}

export async function instanceDetail(baseUrl: string, instance: Registered): Promise<InstanceDetail> {
  const res = await fetch(`${baseUrl}/api/upload/${instance.instanceId}`, {
    headers: { authorization: instance.auth },
  });
  if (res.status !== 200) throw new Error(`detail answered ${res.status}`);
  return ((await res.json()) as { data: InstanceDetail }).data;
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
