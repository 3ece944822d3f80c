import { readReplicaOwners, startClusterWithAgent, TestCluster } from '../support/cluster';
import { RunningRegistry, TestProcess } from '../support/processes';
import { RedisServer } from '../support/redis-server';
import { eventually, instanceDetail, Registered } from '../support/registry-client';
import { readSse, startStream } from '../support/sse';

const OUTAGE_MS = 1_000;
/** The target: cross-node chats work again within 1 s of Redis being back, with default settings. */
const RECOVERY_MS = 1_000;

/** Scenario 3: Redis (the nodes' own redis-server) crashes and comes back empty mid-stream. */
describe('fault: Redis restarts while cross-node streams are in flight', () => {
  let redis: RedisServer;
  let cluster: TestCluster;
  let nodeA: RunningRegistry;
  let nodeB: RunningRegistry;
  let agent: TestProcess;
  let instance: Registered;

  beforeAll(async () => {
    redis = await RedisServer.start();
    ({ cluster, agent, instance } = await startClusterWithAgent(
      {
        label: 'redis',
        nodes: 2,
        redisUrl: redis.url,
        // Default presence settings (refresh every 10 s): recovery must not wait for the next refresh.
        // info: the nodes say when their Redis connections are restored.
        env: { LOG_LEVEL: 'info' },
      },
      // 40 chunks at once, or 200 ms apart with [slow] (an 8 s answer).
      { chunks: 40 },
    ));
    cluster.onStop(() => redis.stop());
    [nodeA, nodeB] = cluster.nodes;
  });

  afterAll(async () => {
    if (cluster) await cluster.stop();
    else await redis?.stop();
  });

  it('ends in-flight cross-node streams with an error event, then presence and routing recover', async () => {
    const chatUrl = (node: RunningRegistry) => `${node.url}/api/chat/${instance.instanceId}`;
    const slow = { messages: [{ role: 'user', content: 'slowly please [slow]' }] };
    const crossNode = [startStream(chatUrl(nodeB), slow), startStream(chatUrl(nodeB), slow)];
    const sameNode = startStream(chatUrl(nodeA), slow);
    await Promise.all([...crossNode, sameNode].map((s) => s.firstData));

    const linesA = nodeA.proc.output.length;
    const linesB = nodeB.proc.output.length;
    const killedAt = Date.now();
    await redis.kill();
    // A chat arriving during the outage must be answered, not left hanging.
    const during = readSse(chatUrl(nodeB), { messages: [{ role: 'user', content: 'now?' }] }).then(
      (r) => ({ status: r.status, done: r.done, at: Date.now() }),
      (error: Error) => ({ status: 0, done: false, at: Date.now(), error: error.message }),
    );
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await redis.start();
    const upAt = Date.now();
    // From the moment Redis is back: when does presence show the instance again, and when does a
    // new cross-node chat complete? Polled together, each from right after Redis came back.
    const presenceBack = eventually(async () => {
      const owners = await readReplicaOwners(redis.url, cluster.prefix, instance.instanceId);
      return owners.length > 0 && (await instanceDetail(nodeB.url, instance)).status === 'online';
    }, 10_000).then(() => Date.now());
    const chatBack = eventually(async () => {
      const result = await readSse(chatUrl(nodeB), { messages: [{ role: 'user', content: 'hello again' }] });
      return result.done && result.data.length === 41;
    }, 10_000).then(() => Date.now());

    const ends = await Promise.all(crossNode.map((s) => s.ended));
    for (const end of ends) {
      console.log(
        `redis restart: cross-node stream ended ${end.endedAt - killedAt} ms after the kill with ` +
          `${JSON.stringify(end.error)} (done=${end.done}, transport=${end.transportError})`,
      );
      expect(end.done).toBe(false);
      expect(end.error).not.toBeNull();
      expect(end.endedAt - killedAt).toBeLessThan(5_000);
    }
    const duringOutage = await during;
    console.log(
      `redis restart: a chat sent during the outage answered after ${duringOutage.at - killedAt} ms: ${JSON.stringify(duringOutage)}`,
    );
    expect(duringOutage.at - killedAt).toBeLessThan(OUTAGE_MS + 5_000);
    if (duringOutage.status >= 500 && duringOutage.status !== 503)
      console.log(
        nodeB.proc.output
          .filter((l) => /error/i.test(l))
          .slice(-6)
          .join('\n'),
      );

    const [presenceAt, chatAt] = await Promise.all([presenceBack, chatBack]);
    // The nodes log when their connections are back (for the report; the assertions are above).
    for (const [node, from] of [
      [nodeA, linesA],
      [nodeB, linesB],
    ] as const)
      for (const pattern of [
        /Redis command connection .* restored/,
        /Redis publisher connection .* restored/,
        /cluster bus subscription restored/,
      ])
        await node.proc.waitFor(pattern, 10_000, from);
    const sameEnd = await sameNode.ended;
    console.log(
      `redis restart: down ${upAt - killedAt} ms; after Redis came back: presence back in ${presenceAt - upAt} ms, ` +
        `a new cross-node chat done in ${chatAt - upAt} ms (default presence refresh); ` +
        `the same-node stream ended done=${sameEnd.done} error=${JSON.stringify(sameEnd.error)}`,
    );
    expect(presenceAt - upAt).toBeLessThanOrEqual(RECOVERY_MS);
    expect(chatAt - upAt).toBeLessThanOrEqual(RECOVERY_MS);
    expect(agent.running).toBe(true);
    // Redis unreachable is never an internal error: the chat either waits it out (the hold: its
    // replica was out of reach, so it is tried again when the wait ends) and completes, or, when the
    // outage outlasts the hold, is "unavailable, retry" (503).
    expect(duringOutage.status === 503 || (duringOutage.status === 200 && duringOutage.done)).toBe(true);
  });

  // Issue #24: the same for another endpoint, whose stream crosses nodes the chat's way.
  it('ends an in-flight cross-node Anthropic Messages stream with an error in Anthropic’s shape; embeddings work again after', async () => {
    const base = (node: RunningRegistry) => `${node.url}/api/chat/${instance.instanceId}`;
    // [slow]: 40 events 200 ms apart, an 8 s answer.
    const stream = startStream(`${base(nodeB)}/v1/messages`, {
      max_tokens: 100,
      stream: true,
      messages: [{ role: 'user', content: 'slowly please [slow]' }],
    });
    await stream.firstData;
    // message_start came; a few text deltas too, so the kill lands mid-answer.
    await new Promise((r) => setTimeout(r, 900));

    const killedAt = Date.now();
    await redis.kill();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await redis.start();
    const upAt = Date.now();
    // Every attempt's status and time: a request that waits the recovery out (the hold) shows as one
    // slow 200, a refused one as a 503; none may be an internal error.
    const attempts: Array<{ status: number; ms: number }> = [];
    const embed = async () => {
      const sentAt = Date.now();
      const res = await fetch(`${base(nodeB)}/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: 'hello again' }),
      });
      const body = (await res.json()) as { object?: string; data?: unknown[] };
      attempts.push({ status: res.status, ms: Date.now() - sentAt });
      return res.status === 200 && body.object === 'list' && body.data?.length === 1;
    };
    const embeddingsBack = eventually(embed, 10_000).then(() => Date.now());

    const end = await stream.ended;
    const last = JSON.parse(end.data.at(-1) ?? 'null') as unknown;
    const deltas = end.eventNames.filter((e) => e === 'content_block_delta').length;
    console.log(
      `redis restart (messages): the cross-node stream ended ${end.endedAt - killedAt} ms after the kill ` +
        `with event "${end.eventNames.at(-1)}" ${JSON.stringify(last)} (transport=${end.transportError}, ` +
        `${deltas} deltas before)`,
    );
    expect(end.status).toBe(200);
    expect(deltas).toBeGreaterThan(0);
    expect(end.transportError).toBeNull();
    expect(end.eventNames[0]).toBe('message_start');
    expect(end.eventNames).not.toContain('message_stop');
    // Anthropic's error event: what its SDKs raise as an APIError.
    expect(end.eventNames.at(-1)).toBe('error');
    expect(last).toEqual({
      type: 'error',
      error: { type: expect.stringMatching(/^(api_error|overloaded_error)$/), message: expect.any(String) },
    });
    expect(end.endedAt - killedAt).toBeLessThan(5_000);

    const embeddingsAt = await embeddingsBack;
    console.log(
      `redis restart: a cross-node embeddings request answered 200 ${embeddingsAt - upAt} ms after ` +
        `Redis came back (attempts: ${JSON.stringify(attempts)})`,
    );
    expect(attempts.filter((a) => a.status !== 200 && a.status !== 503)).toEqual([]);
    // Chat's 1 s target (the test above) with room for a loaded machine: this one shows the
    // endpoint recovers, not how fast (measured 0.54–1.02 s on 2 busy cores).
    expect(embeddingsAt - upAt).toBeLessThanOrEqual(2 * RECOVERY_MS);
    expect(agent.running).toBe(true);
  });
});
