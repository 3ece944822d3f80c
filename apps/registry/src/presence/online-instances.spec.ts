import type { ClusterBus } from '../cluster/cluster-bus';
import { OnlineInstances } from './online-instances';
import type { PresenceOwner, PresenceStore } from './presence.store';

/** Presence holding `records`; nodes in `dead` no longer listen on their channel. */
function setup(records: Record<string, PresenceOwner>, dead: string[]) {
  const livenessQueries: string[] = [];
  const presence = {
    owner: (id: string) => Promise.resolve(records[id] ?? null),
    onlineByNode: () => {
      const byNode = new Map<string, string[]>();
      for (const [id, owner] of Object.entries(records))
        byNode.set(owner.nodeId, [...(byNode.get(owner.nodeId) ?? []), id]);
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
  const records = {
    here: { nodeId: 'me', epoch: 1 },
    there: { nodeId: 'b', epoch: 4 },
    alsoThere: { nodeId: 'b', epoch: 2 },
    ghost: { nodeId: 'dead', epoch: 3 },
  };

  it('an instance is online only while its owner node is alive', async () => {
    const { online } = setup(records, ['dead']);
    expect(await online.owner('there')).toEqual({ nodeId: 'b', epoch: 4 });
    expect(await online.isOnline('here')).toBe(true);
    expect(await online.isOnline('ghost')).toBe(false);
    expect(await online.owner('ghost')).toBeNull();
    expect(await online.isOnline('unknown')).toBe(false);
  });

  it('the list agrees with the single look-up, asking once per distinct other node', async () => {
    const { online, livenessQueries } = setup(records, ['dead']);
    expect((await online.ids()).sort()).toEqual(['alsoThere', 'here', 'there']);
    expect(livenessQueries.sort()).toEqual(['b', 'dead']);
  });
});
