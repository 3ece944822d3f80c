import type { ClusterBus } from '../cluster/cluster-bus';
import { OnlineInstances } from './online-instances';
import type { PresenceStore, ReplicaRecord } from './presence.store';

const record = (instanceId: string, replica: string, nodeId: string): ReplicaRecord => ({
  instanceId,
  replica,
  nodeId,
  epoch: 1,
  capacity: 1,
  inFlight: 0,
  connectedAt: 0,
  draining: false,
});

/** Presence holding `records`; nodes in `dead` no longer listen on their channel. */
function setup(records: ReplicaRecord[], dead: string[]) {
  const livenessQueries: string[] = [];
  const presence = {
    replicas: (id: string) => Promise.resolve(records.filter((r) => r.instanceId === id)),
    onlineByNode: () => {
      const byNode = new Map<string, string[]>();
      for (const r of records) byNode.set(r.nodeId, [...(byNode.get(r.nodeId) ?? []), r.instanceId]);
      return Promise.resolve(byNode);
    },
  };
  const bus = {
    nodeId: 'me',
    isNodeAlive: (nodeId: string) => {
      livenessQueries.push(nodeId);
      return Promise.resolve(!dead.includes(nodeId));
    },
  };
  const online = new OnlineInstances(presence as unknown as PresenceStore, bus as unknown as ClusterBus);
  return { online, livenessQueries };
}

describe('OnlineInstances', () => {
  const records = [
    record('here', '', 'me'),
    record('there', 'a', 'b'),
    record('alsoThere', '', 'b'),
    record('ghost', '', 'dead'),
    record('split', 'x', 'dead'),
    record('split', 'y', 'b'),
  ];

  it('an instance is online while one of its replicas is on a live node', async () => {
    const { online } = setup(records, ['dead']);
    expect(await online.isOnline('here')).toBe(true);
    expect(await online.isOnline('there')).toBe(true);
    expect(await online.isOnline('ghost')).toBe(false);
    expect(await online.isOnline('unknown')).toBe(false);
    expect((await online.replicas('split')).map((r) => r.replica)).toEqual(['y']);
  });

  it('the list agrees with the single look-up, once per instance, asking once per distinct other node', async () => {
    const { online, livenessQueries } = setup(records, ['dead']);
    expect((await online.ids()).sort()).toEqual(['alsoThere', 'here', 'split', 'there']);
    expect(livenessQueries.sort()).toEqual(['b', 'dead']);
  });
});
