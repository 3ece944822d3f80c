import type { LiveNodes } from '../cluster/live-nodes';
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

/** Presence holding `records`; nodes in `dead` are not alive. */
function setup(records: ReplicaRecord[], dead: string[]) {
  const asked: string[] = [];
  const presence = { replicas: (id: string) => Promise.resolve(records.filter((r) => r.instanceId === id)) };
  const nodes = {
    current: new Set(['me', 'b']),
    isAlive: (nodeId: string) => {
      asked.push(nodeId);
      return Promise.resolve(!dead.includes(nodeId));
    },
  };
  const online = new OnlineInstances(presence as unknown as PresenceStore, nodes as unknown as LiveNodes);
  return { online, asked };
}

describe('OnlineInstances', () => {
  const records = [
    record('here', '', 'me'),
    record('there', 'a', 'b'),
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

  it('asks about each distinct node of an instance once', async () => {
    const { online, asked } = setup(records, ['dead']);
    await online.replicas('split');
    expect(asked.sort()).toEqual(['b', 'dead']);
  });

  it("overlays what a node knows fresher than presence (its own replicas' load)", async () => {
    const { online } = setup(records, []);
    online.useLiveState({ of: (r) => (r.nodeId === 'me' ? { inFlight: 7 } : undefined) });
    expect((await online.replicas('here'))[0].inFlight).toBe(7);
    expect((await online.replicas('there'))[0].inFlight).toBe(0);
  });

  it('gives the live nodes, never a list of instances, to the database reads', () => {
    const { online } = setup(records, []);
    expect(online.liveNodeIds().sort()).toEqual(['b', 'me']);
  });
});
