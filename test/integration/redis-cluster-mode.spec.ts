import { randomUUID } from 'node:crypto';
import { shardedChannelNames } from '@app/protocol';
import { CLUSTER_PRESENCE_BUCKETS } from '../../apps/registry/src/presence/presence-keys';
import { RedisPresenceStore } from '../../apps/registry/src/presence/redis-presence.store';
import { unnamed } from '../support/unnamed-presence';
import { RedisConnections } from '../../apps/registry/src/redis/redis-connections';
import { NodeStatsStore } from '../../apps/registry/src/admin/node-stats.store';
import type { NodeStats } from '@app/contracts';
import { RedisClusterBus } from '../../apps/registry/src/cluster/redis-cluster-bus';

const STATS: NodeStats = {
  node_id: '',
  at: 0,
  draining: false,
  connected_hosts: 0,
  chats_in_flight: 0,
  chats_per_second: 0,
  ttft_p50_ms: null,
  ttft_p99_ms: null,
};
import { BusPair, chat, Inbox } from '../support/bus-pair';
import { eventually } from '../support/eventually';
import { RedisClusterServer } from '../support/redis-cluster';

// One private Redis Cluster (3 masters + 3 replicas) for the whole file; the last test kills a master.
describe('distributed mode on a Redis Cluster (REDIS_CLUSTER_NODES)', () => {
  let server: RedisClusterServer;
  let seeds: { host: string; port: number }[];

  beforeAll(async () => {
    server = await RedisClusterServer.start();
    seeds = server.ports.map((port) => ({ host: '127.0.0.1', port }));
  });
  afterAll(() => server?.stop());

  describe("the cluster view's node stats", () => {
    it("every node receives every other node's stats (a classic broadcast: every shard delivers it)", async () => {
      const prefix = `test:stats:${randomUUID()}`;
      const names = ['node-a', 'node-b', 'node-c', 'node-d'];
      const nodes = await Promise.all(
        names.map(async (nodeId) => {
          const connections = new RedisConnections(seeds);
          await connections.waitReady();
          const bus = new RedisClusterBus(connections, { prefix, nodeId });
          await bus.start();
          const store = new NodeStatsStore(bus);
          store.onModuleInit();
          return { connections, bus, store };
        }),
      );
      try {
        for (const [i, node] of nodes.entries()) await node.store.publish({ ...STATS, node_id: names[i] });
        const seen = () => nodes[0].store.others().map((s) => s.node_id);
        await eventually(() => seen().length === 3, 5_000);
        expect(seen().sort()).toEqual(['node-b', 'node-c', 'node-d']);
      } finally {
        for (const node of nodes) await node.bus.close();
        await Promise.all(nodes.map((node) => node.connections.close()));
      }
    });
  });

  describe('presence', () => {
    let connections: RedisConnections;
    beforeAll(async () => {
      connections = new RedisConnections(seeds);
      await connections.waitReady();
    });
    afterAll(() => connections?.close());

    const stores = (ttlMs = 30_000) => {
      const prefix = `test:presence:${randomUUID()}`;
      const options = { prefix, ttlMs, buckets: CLUSTER_PRESENCE_BUCKETS };
      return {
        a: unnamed(new RedisPresenceStore(connections, { ...options, nodeId: 'node-a' })),
        b: unnamed(new RedisPresenceStore(connections, { ...options, nodeId: 'node-b' })),
      };
    };

    it('claims, refreshes and releases instances whose keys live on every shard', async () => {
      const { a, b } = stores();
      const ids = Array.from({ length: 60 }, (_, i) => `inst-${i}`);
      const held = new Map<string, number>();
      for (const [i, id] of ids.entries()) {
        const { epoch } = await (i % 2 ? b : a).claim(id);
        if (i % 2 === 0) held.set(id, epoch);
      }

      for (const [i, id] of ids.entries())
        expect((await b.owner(id))?.nodeId).toBe(i % 2 ? 'node-b' : 'node-a');
      expect(await a.refresh(held)).toEqual([]);

      // The keys are not on one shard: every master (and its replica) holds some of them.
      const keysPerMember = await Promise.all(server.ports.map((port) => server.dbsize(port)));
      expect(keysPerMember.filter((n) => n > 0).length).toBeGreaterThanOrEqual(3);

      expect(await a.release('inst-0', held.get('inst-0')!)).toBe(true);
      expect(await a.owner('inst-0')).toBeNull();
    });

    it('a newer claim on another node supersedes the older one', async () => {
      const { a, b } = stores();
      const first = await a.claim('inst-x');
      const second = await b.claim('inst-x');
      expect(second).toEqual({
        epoch: expect.any(Number),
        previous: { nodeId: 'node-a', epoch: first.epoch },
      });
      expect(second.epoch).toBeGreaterThan(first.epoch);
      expect(await a.refresh(new Map([['inst-x', first.epoch]]))).toEqual(['inst-x']);
      expect(await a.release('inst-x', first.epoch)).toBe(false);
      expect(await a.owner('inst-x')).toEqual({ nodeId: 'node-b', epoch: second.epoch });
    });
  });

  describe('cluster bus (sharded pub/sub)', () => {
    const pair = new BusPair();
    beforeAll(() => pair.start(seeds));
    afterAll(() => pair.close());

    it('delivers a request to the other node and its replies back', async () => {
      const base = pair.requestsAtB.received.length;
      expect(await pair.busA.sendRequest('node-b', chat('r1'))).toBe(true);
      expect(await pair.requestsAtB.at(base)).toEqual(chat('r1'));
      const replies = pair.repliesAtA.received.length;
      const lines = ['data: {"choices":[{"delta":{"content":"hi"}}]}', ''];
      expect(await pair.busB.sendReply('node-a', { kind: 'chunks', requestId: 'r1', seq: 0, lines })).toBe(
        true,
      );
      expect(await pair.busB.sendReply('node-a', { kind: 'done', requestId: 'r1', seq: 1 })).toBe(true);
      expect(await pair.repliesAtA.at(replies + 1)).toEqual({ kind: 'done', requestId: 'r1', seq: 1 });
    });

    it('knows which nodes listen, and a send to a node that does not is refused at once', async () => {
      expect(await pair.busA.isNodeAlive('node-b')).toBe(true);
      expect(await pair.busA.isNodeAlive('node-gone')).toBe(false);
      expect(await pair.busA.sendRequest('node-gone', chat('r2'))).toBe(false);
    });

    it('carries broadcasts (classic PUBLISH) to the other node, which listens through its own connections', async () => {
      const received = new Inbox<{ message: unknown; from: string }>();
      pair.busB.onBroadcast('access', (message, from) => received.push({ message, from }));
      await pair.busA.broadcast('access', { kind: 'key_revoked', hash: 'ab' });
      expect(await received.at(0)).toEqual({
        message: { from: 'node-a', kind: 'key_revoked', hash: 'ab' },
        from: 'node-a',
      });
    });

    it('survives the failover of the shard holding a node: disconnect reported, then messages flow again', async () => {
      const master = await server.masterOf(shardedChannelNames(pair.prefix).requests('node-b'));
      const before = pair.disconnectsB;
      const killedAt = Date.now();
      await server.kill(master);

      await eventually(() => pair.disconnectsB > before, 10_000);
      await eventually(() => pair.busB.connected, 20_000);
      const base = pair.requestsAtB.received.length;
      await eventually(() => pair.busA.sendRequest('node-b', chat('after-failover')), 10_000);
      const recoveredMs = Date.now() - killedAt;
      expect(await pair.requestsAtB.at(base)).toEqual(chat('after-failover'));
      expect(await pair.busA.isNodeAlive('node-b')).toBe(true);
      // The failover itself takes the node timeout (2 s) plus an election; the bus adds little.
      expect(recoveredMs).toBeLessThan(15_000);
      console.log(`cluster bus: messages flow again ${recoveredMs} ms after the master was killed`);
    });
  });
});
