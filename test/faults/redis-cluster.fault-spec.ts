import { shardedChannelNames } from '@app/protocol';
import { startClusterWithAgent, TestCluster } from '../support/cluster';
import { RunningRegistry } from '../support/processes';
import { RedisClusterServer } from '../support/redis-cluster';
import { eventually, instanceDetail, Registered } from '../support/registry-client';
import { readSse, startStream } from '../support/sse';

/** The failover takes the cluster's node timeout (2 s) plus an election; new chats must work soon after. */
const RECOVERY_MS = 10_000;

/** Registry nodes on a Redis Cluster (3 masters, 3 replicas): relay, failover of a shard, drain. */
describe('fault: distributed mode on a Redis Cluster', () => {
  let redis: RedisClusterServer;
  let cluster: TestCluster;
  let nodeA: RunningRegistry;
  let nodeB: RunningRegistry;
  let instance: Registered;
  const chatUrl = (node: RunningRegistry) => `${node.url}/api/chat/${instance.instanceId}`;
  const slow = { messages: [{ role: 'user', content: 'slowly please [slow]' }] };
  /** A cross-node chat that completes: 40 chunks, then [DONE]. One left waiting counts as a failure. */
  const chatCompletes = async (node: RunningRegistry) => {
    const body = { messages: [{ role: 'user', content: 'hello' }] };
    const result = await readSse(chatUrl(node), body, { signal: AbortSignal.timeout(RECOVERY_MS) });
    return result.done && result.data.length === 41;
  };

  beforeAll(async () => {
    redis = await RedisClusterServer.start();
    ({ cluster, instance } = await startClusterWithAgent(
      {
        label: 'rcluster',
        nodes: 2,
        redisClusterNodes: redis.seeds,
        env: { LOG_LEVEL: 'info', DRAIN_GRACE_MS: '15000' },
      },
      // 40 chunks at once, or 200 ms apart with [slow] (an 8 s answer).
      { chunks: 40 },
      { allNodes: true },
    ));
    cluster.onStop(() => redis.stop());
    [nodeA, nodeB] = cluster.nodes;
  });

  afterAll(async () => {
    if (cluster) await cluster.stop();
    else await redis?.stop();
  });

  it('says so at startup, shows the host online everywhere and relays a chat across nodes', async () => {
    expect(nodeB.proc.output.join('\n')).toMatch(/Redis Cluster/);
    expect((await instanceDetail(nodeB.url, instance)).status).toBe('online');
    expect(await chatCompletes(nodeB)).toBe(true);
  });

  it('a master fails over: in-flight cross-node streams end with an error, then routing and presence recover', async () => {
    const streams = [startStream(chatUrl(nodeB), slow), startStream(chatUrl(nodeB), slow)];
    await Promise.all(streams.map((s) => s.firstData));

    // The shard that carries node B's replies: the caller side of both streams.
    const master = await redis.masterOf(shardedChannelNames(cluster.prefix).replies(nodeB.nodeId));
    const killedAt = Date.now();
    await redis.kill(master);

    const chatBack = eventually(() => chatCompletes(nodeB), 20_000).then(() => Date.now());
    const ends = await Promise.all(streams.map((s) => s.ended));
    for (const end of ends) {
      console.log(
        `redis cluster failover: cross-node stream ended ${end.endedAt - killedAt} ms after the kill with ` +
          `${JSON.stringify(end.error)} (done=${end.done})`,
      );
      expect(end.done).toBe(false);
      expect(end.error).not.toBeNull();
      expect(end.endedAt - killedAt).toBeLessThan(RECOVERY_MS);
    }
    const chatAt = await chatBack;
    await eventually(async () => (await instanceDetail(nodeB.url, instance)).status === 'online', 10_000);
    console.log(
      `redis cluster failover: a new cross-node chat completed ${chatAt - killedAt} ms after the kill`,
    );
    expect(chatAt - killedAt).toBeLessThan(RECOVERY_MS);
  });

  it('drains a node: its in-flight stream finishes, its host moves to the other node', async () => {
    const inFlight = startStream(chatUrl(nodeB), slow);
    await inFlight.firstData;
    nodeA.proc.signal('SIGTERM');

    const end = await inFlight.ended;
    expect({ done: end.done, error: end.error }).toEqual({ done: true, error: null });
    expect(await nodeA.proc.exited).toBe(0);
    await eventually(async () => (await instanceDetail(nodeB.url, instance)).status === 'online', 10_000);
    expect(await chatCompletes(nodeB)).toBe(true);
  });
});
