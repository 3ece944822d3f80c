import { readReplicaOwners, startClusterWithAgent, TestCluster } from '../support/cluster';
import { FakeModel } from '../support/fake-model-server';
import { RunningRegistry, TestProcess } from '../support/processes';
import { eventually, instanceDetail, Registered } from '../support/registry-client';
import { startStream, StreamEnd } from '../support/sse';

/** A Responses stream's `type`s seen, in order (the registry's own error event has none). */
const typesOf = (end: StreamEnd) =>
  end.data.map((d) => {
    try {
      return (JSON.parse(d) as { type?: string }).type ?? null;
    } catch {
      return null;
    }
  });

/**
 * Issue #24: the node-kill scenarios of chat (holder-node-killed, caller-node-killed) for the
 * other endpoints, whose streams cross nodes the chat's way. Node A holds the host (its agent
 * knows every node and fails over to B); B and C serve callers. The caller's node is killed
 * first (C, the host on A is untouched), then the holder (A).
 */
describe('fault: a node is SIGKILLed while a non-chat endpoint streams across nodes', () => {
  let cluster: TestCluster;
  let nodeA: RunningRegistry;
  let nodeB: RunningRegistry;
  let nodeC: RunningRegistry;
  let model: FakeModel;
  let agent: TestProcess;
  let instance: Registered;

  beforeAll(async () => {
    ({ cluster, model, agent, instance } = await startClusterWithAgent(
      {
        label: 'endpoint-kill',
        nodes: 3,
        env: { PRESENCE_TTL_MS: '3000', PRESENCE_REFRESH_MS: '1000', WS_PING_INTERVAL_MS: '1000' },
      },
      // 400 events 50 ms apart: a 20 s answer, so each kill lands mid-stream.
      { chunks: 400, delayMs: 50 },
      { allNodes: true, env: { HOST_BACKOFF_BASE_MS: '500', HOST_BACKOFF_CAP_MS: '30000' } },
    ));
    [nodeA, nodeB, nodeC] = cluster.nodes;
    await agent.waitFor(new RegExp(`connected to ${nodeA.url}`));
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('caller node killed: the host cancels the streamed completions request within 2 s', async () => {
    const stream = startStream(`${nodeC.url}/api/chat/${instance.instanceId}/completions`, {
      prompt: 'a long answer please',
      stream: true,
    });
    await stream.firstData;
    await new Promise((r) => setTimeout(r, 300));
    const aborted = model.nextAbort(10_000);
    const killedAt = Date.now();
    nodeC.proc.signal('SIGKILL');
    const event = await aborted.catch(() => null);
    const end = await stream.ended;
    const abortMs = event ? event.at - killedAt : Infinity;
    console.log(
      `caller node killed (completions): the model saw ${event?.path ?? 'no request'} aborted after ` +
        `${abortMs} ms (${event?.chunksSent ?? '?'} events sent; caller saw "${end.transportError}")`,
    );
    expect(event?.path).toBe('/v1/completions');
    expect(abortMs).toBeLessThan(2_000);
    expect(end.done).toBe(false);
    // The holder and its host are unaffected.
    expect(agent.running).toBe(true);
    expect((await fetch(`${nodeA.url}/healthz`)).status).toBe(200);
  });

  it('holder node killed: the caller’s Responses stream ends with an error event within 10 s, and the agent is online via B within 5 s', async () => {
    const url = `${nodeB.url}/api/chat/${instance.instanceId}/responses`;
    const stream = startStream(url, { input: 'a long answer please', stream: true });
    await stream.firstData;
    await new Promise((r) => setTimeout(r, 300));

    const fromLine = agent.output.length;
    const killedAt = Date.now();
    nodeA.proc.signal('SIGKILL');

    const [end, reconnectedMs, onlineMs] = await Promise.all([
      stream.ended,
      agent
        .waitFor(new RegExp(`connected to ${nodeB.url}`), 5_000, fromLine)
        .then(() => Date.now() - killedAt),
      eventually(async () => {
        const owners = await readReplicaOwners(cluster.redisUrl, cluster.prefix, instance.instanceId);
        if (!owners.some((owner) => owner.startsWith(`${nodeB.nodeId}|`))) return false;
        return (await instanceDetail(nodeB.url, instance)).status === 'online';
      }, 5_000).then(() => Date.now() - killedAt),
    ]);
    const errorMs = end.endedAt - killedAt;
    const types = typesOf(end);
    console.log(
      `holder node killed (responses): caller got ${JSON.stringify(end.error)} after ${errorMs} ms ` +
        `(${types.filter((t) => t === 'response.output_text.delta').length} deltas before); agent ` +
        `reconnected via B after ${reconnectedMs} ms, online via B after ${onlineMs} ms`,
    );

    expect(end.status).toBe(200);
    expect(end.transportError).toBeNull();
    // Began as the model's stream, and was not made to look finished.
    expect(types[0]).toBe('response.created');
    expect(types).not.toContain('response.completed');
    expect(end.done).toBe(false);
    // The last event is the registry's error, in OpenAI's shape.
    expect(types.at(-1)).toBeNull();
    expect(end.error?.code).toMatch(/node_unreachable|host_disconnected/);
    expect(end.error?.message).toEqual(expect.any(String));
    expect(errorMs).toBeLessThan(10_000);
    expect(reconnectedMs).toBeLessThan(5_000);
    expect(onlineMs).toBeLessThan(5_000);

    // The new owner serves the endpoint (the first event is enough; the answer would take 20 s).
    const after = startStream(url, { input: 'again', stream: true });
    await after.firstData;
    after.abort();
    await after.ended;
  });
});
