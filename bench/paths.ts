/** The ways a chat can travel in a run, each a Target for the same client. */
import type { Target } from './http-client';
import type { Deployment } from './deployment';
import type { ProbedProcess } from './registry-node';

export type PathKey = 'direct' | 'embedded' | 'same' | 'cross';

export const PATH_LABELS: Record<PathKey, string> = {
  direct: 'direct to the model',
  embedded: 'embedded node',
  same: 'distributed, same node',
  cross: 'distributed, cross node',
};

export const RELAYED: PathKey[] = ['embedded', 'same', 'cross'];

/** Targets for the burst model (`kind` burst) or the paced model, in PathKey order. */
export function targets(d: Deployment, kind: 'burst' | 'paced', keys?: PathKey[]): Target[] {
  const all: Record<PathKey, URL> = {
    direct: new URL(`${d.models[kind].url}/chat/completions`),
    embedded: d.embedded.chatUrl(d.instances.embedded[kind].instanceId),
    same: d.nodeA.chatUrl(d.instances.distributed[kind].instanceId),
    cross: d.nodeB.chatUrl(d.instances.distributed[kind].instanceId),
  };
  return (keys ?? (Object.keys(all) as PathKey[])).map((name) => ({ name, url: all[name] }));
}

/** The processes doing the work on a path (for CPU figures). */
export function pathProcesses(d: Deployment, key: PathKey, kind: 'burst' | 'paced'): Record<string, number> {
  const model = { model: d.models[kind].proc.pid };
  const agent = (name: 'embedded' | 'distributed') =>
    d.agents[`${name}${kind === 'burst' ? 'Burst' : 'Paced'}`].pid;
  switch (key) {
    case 'direct':
      return model;
    case 'embedded':
      return { ...model, agent: agent('embedded'), registry: d.embedded.pid };
    case 'same':
      return { ...model, agent: agent('distributed'), registry: d.nodeA.pid };
    case 'cross':
      return { ...model, agent: agent('distributed'), 'node A': d.nodeA.pid, 'node B': d.nodeB.pid };
  }
}

/** The registry nodes and the agent a path goes through (what --profile profiles). */
export function probedOnPath(d: Deployment, key: PathKey, kind: 'burst' | 'paced'): ProbedProcess[] {
  const agent = (name: 'embedded' | 'distributed') =>
    d.agents[`${name}${kind === 'burst' ? 'Burst' : 'Paced'}`];
  if (key === 'embedded') return [d.embedded, agent('embedded')];
  if (key === 'same') return [d.nodeA, agent('distributed')];
  if (key === 'cross') return [d.nodeA, d.nodeB, agent('distributed')];
  return [];
}
