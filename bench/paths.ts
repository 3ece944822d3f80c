/** The ways a chat can travel in a run, each a Target for the same client. */
import type { Target } from './http-client';
import type { Deployment } from './deployment';
import type { ProbedProcess } from './registry-node';

export type PathKey =
  'direct' | 'proxy' | 'tunnel' | 'embedded' | 'same' | 'twin' | 'private' | 'cross' | 'cluster';

export const PATH_LABELS: Record<PathKey, string> = {
  direct: 'direct to the model',
  proxy: 'plain reverse proxy (floor)',
  tunnel: 'minimal WS tunnel (floor)',
  embedded: 'embedded node',
  same: 'distributed, same node',
  twin: 'same node, public, own agent',
  private: 'same node, private, with key',
  cross: 'distributed, cross node',
  cluster: 'cross node, Redis Cluster',
};

/** Our relay: the paths the targets judge. */
export const RELAYED: PathKey[] = ['embedded', 'same', 'cross'];
/**
 * Reference relays of the simplest shape (`floor/`), judged by nothing: what one extra hop, and
 * one extra hop through a WebSocket and a second process, cost on this machine at the least.
 */
export const FLOOR: PathKey[] = ['proxy', 'tunnel'];
/** Every path, in the order the tables list them; the cross-node path over a Redis Cluster is measured, not judged. */
export const ALL_PATHS: PathKey[] = ['direct', ...FLOOR, ...RELAYED, 'cluster'];
/**
 * The relay overhead section also measures a private instance called with its key (burst model
 * only) and its twin: a public instance of the same shape (its own agent, one request per round).
 * The key check is judged against the twin, not `same`, whose agent also serves `cross` and so is
 * woken twice as often: that alone measured 0.3–0.4 ms (docs/performance.md, the private path).
 */
/** Section 1c (each path on its own at c=1): direct, the tunnel floor and our three relayed paths. */
export const ALONE_PATHS: PathKey[] = ['direct', 'tunnel', ...RELAYED];

export const OVERHEAD_PATHS: PathKey[] = [
  'direct',
  ...FLOOR,
  'embedded',
  'same',
  'twin',
  'private',
  'cross',
  'cluster',
];

/** Targets for the burst model (`kind` burst) or the paced model, in PathKey order. */
export function targets(d: Deployment, kind: 'burst' | 'paced', keys?: PathKey[]): Target[] {
  const all: Partial<Record<PathKey, URL>> = {
    private: d.nodeA.chatUrl(d.instances.private.instance.instanceId),
    twin: d.nodeA.chatUrl(d.instances.twin.instanceId),
    direct: new URL(`${d.models[kind].url}/chat/completions`),
    proxy: new URL(`${d.floor.proxy.url}/${kind}/chat/completions`),
    tunnel: new URL(`${d.floor.tunnel.url}/${kind}/chat/completions`),
    embedded: d.embedded.chatUrl(d.instances.embedded[kind].instanceId),
    same: d.nodeA.chatUrl(d.instances.distributed[kind].instanceId),
    cross: d.nodeB.chatUrl(d.instances.distributed[kind].instanceId),
    ...(d.cluster &&
      d.instances.cluster && {
        cluster: d.cluster.nodeB.chatUrl(d.instances.cluster[kind].instanceId),
      }),
  };
  const key = { authorization: `Bearer ${d.instances.private.key}` };
  return (keys ?? (Object.keys(all) as PathKey[])).map((name) => ({
    name,
    url: present(all[name], name),
    ...(name === 'private' ? { headers: key } : {}),
  }));
}

function present<T>(value: T | null | undefined, path: PathKey): T {
  if (value === null || value === undefined) throw new Error(`path ${path} is not deployed in this run`);
  return value;
}

/** The paths this run deployed (the Redis Cluster one is left out of the CI gate). */
export function deployedPaths(d: Deployment, keys: readonly PathKey[]): PathKey[] {
  return keys.filter((key) => key !== 'cluster' || d.cluster !== null);
}

/** The processes doing the work on a path (for CPU figures). */
export function pathProcesses(d: Deployment, key: PathKey, kind: 'burst' | 'paced'): Record<string, number> {
  const model = { model: d.models[kind].proc.pid };
  const agent = (name: 'embedded' | 'distributed' | 'cluster') =>
    present(d.agents[`${name}${kind === 'burst' ? 'Burst' : 'Paced'}`], key).pid;
  switch (key) {
    case 'direct':
      return model;
    case 'proxy':
      return { ...model, proxy: d.floor.proxy.proc.pid };
    case 'tunnel':
      return { ...model, 'tunnel agent': d.floor.agents[kind].pid, 'tunnel server': d.floor.tunnel.proc.pid };
    case 'embedded':
      return { ...model, agent: agent('embedded'), registry: d.embedded.pid };
    case 'same':
      return { ...model, agent: agent('distributed'), registry: d.nodeA.pid };
    case 'private':
      return { ...model, agent: d.agents.distributedPrivate.pid, registry: d.nodeA.pid };
    case 'twin':
      return { ...model, agent: d.agents.distributedTwin.pid, registry: d.nodeA.pid };
    case 'cross':
      return { ...model, agent: agent('distributed'), 'node A': d.nodeA.pid, 'node B': d.nodeB.pid };
    case 'cluster':
      return {
        ...model,
        agent: agent('cluster'),
        'node A': present(d.cluster, key).nodeA.pid,
        'node B': present(d.cluster, key).nodeB.pid,
      };
  }
}

/** The registry nodes and the agent a path goes through (what --profile profiles; none off our relay). */
export function probedOnPath(d: Deployment, key: PathKey, kind: 'burst' | 'paced'): ProbedProcess[] {
  const agent = (name: 'embedded' | 'distributed' | 'cluster') =>
    present(d.agents[`${name}${kind === 'burst' ? 'Burst' : 'Paced'}`], key);
  if (key === 'embedded') return [d.embedded, agent('embedded')];
  if (key === 'same') return [d.nodeA, agent('distributed')];
  if (key === 'private') return [d.nodeA, d.agents.distributedPrivate];
  if (key === 'twin') return [d.nodeA, d.agents.distributedTwin];
  if (key === 'cross') return [d.nodeA, d.nodeB, agent('distributed')];
  if (key === 'cluster')
    return [present(d.cluster, key).nodeA, present(d.cluster, key).nodeB, agent('cluster')];
  return [];
}
