import { TestCluster } from '../support/cluster';
import { LiveStream, startStream, StreamEnd } from '../support/sse';
import type { RunningRegistry, TestProcess } from '../support/processes';
import type { Registered } from '../support/registry-client';

const AGENTS = 4;
const LOOPS_PER_INSTANCE = 2;

/** A chat that must end by itself; after `limitMs` it is aborted and counts as failed. */
function boundedChat(url: string, limitMs = 10_000): Promise<StreamEnd> {
  const stream: LiveStream = startStream(url, { messages: [{ role: 'user', content: 'under load' }] });
  const timer = setTimeout(() => stream.abort(), limitMs);
  return stream.ended.finally(() => clearTimeout(timer));
}

const describeEnd = (e: StreamEnd) =>
  `${e.status} done=${e.done} error=${e.error?.code ?? null} transport=${e.transportError} ${e.data.join('').slice(0, 120)}`;

/** Scenario 7: SIGTERM of a node under load: drain, agents move, nothing fails on the other node. */
describe('fault: SIGTERM of a node under load', () => {
  let cluster: TestCluster;
  let nodeA: RunningRegistry;
  let nodeB: RunningRegistry;
  let instances: Registered[];
  let agents: TestProcess[];

  beforeAll(async () => {
    cluster = await TestCluster.start({ label: 'drain', nodes: 2, env: { DRAIN_GRACE_MS: '10000' } });
    [nodeA, nodeB] = cluster.nodes;
    // 10 chunks 50 ms apart: every answer takes ~0.5 s.
    const model = await cluster.modelProcess(['--chunks', '10', '--delay-ms', '50']);
    instances = await Promise.all(Array.from({ length: AGENTS }, (_, i) => cluster.register(`drained ${i}`)));
    const env = { HOST_BACKOFF_BASE_MS: '500', HOST_BACKOFF_CAP_MS: '30000', HOST_CONCURRENCY: '16' };
    agents = await Promise.all(
      instances.map((instance) =>
        cluster.agent(instance, model.url, { allNodes: true, env, waitConnected: false }),
      ),
    );
    await Promise.all(agents.map((a) => a.waitFor(new RegExp(`connected to ${nodeA.url}`))));
    for (const instance of instances) await cluster.waitOnline(instance, { via: [nodeB] });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('drains: in-flight streams finish, agents move to B, no request on B fails, the node exits 0', async () => {
    const chatUrl = (node: RunningRegistry, instance: Registered) =>
      `${node.url}/api/chat/${instance.instanceId}`;

    // Steady load on B for every instance (their hosts are on A until they move).
    let loading = true;
    const loadResults: StreamEnd[] = [];
    const loops = instances.flatMap((instance) =>
      Array.from({ length: LOOPS_PER_INSTANCE }, async () => {
        while (loading) loadResults.push(await boundedChat(chatUrl(nodeB, instance)));
      }),
    );
    await new Promise((r) => setTimeout(r, 700));

    // In flight when SIGTERM arrives: callers on A (same node) and on B (through Redis).
    const inFlightA = instances.map((i) => boundedChat(chatUrl(nodeA, i)));
    const inFlightB = instances.map((i) => boundedChat(chatUrl(nodeB, i)));
    await new Promise((r) => setTimeout(r, 200));

    const marks = agents.map((a) => a.output.length);
    const termAt = Date.now();
    nodeA.proc.signal('SIGTERM');
    const moved = await Promise.all(
      agents.map((a, i) =>
        a.waitFor(new RegExp(`connected to ${nodeB.url}`), 10_000, marks[i]).then(() => Date.now() - termAt),
      ),
    );
    const exitCode = await nodeA.proc.exited;
    const exitMs = Date.now() - termAt;
    // Keep the load going a little after the move, then stop it.
    await new Promise((r) => setTimeout(r, 1_000));
    loading = false;
    await Promise.all(loops);
    const [endsA, endsB] = await Promise.all([Promise.all(inFlightA), Promise.all(inFlightB)]);

    const failedLoad = loadResults.filter((e) => !e.done);
    const metricsB = await (await fetch(`${nodeB.url}/metrics`)).text();
    const reroutes = /^registry_chat_reroutes_total (\d+)/m.exec(metricsB)?.[1];
    console.log(
      `drain: node A exited ${exitCode} after ${exitMs} ms; agents moved to B after ${JSON.stringify(moved)} ms; ` +
        `in flight on A: ${endsA.filter((e) => e.done).length}/${endsA.length} done, through A from B: ` +
        `${endsB.filter((e) => e.done).length}/${endsB.length} done; load on B: ${loadResults.length} requests, ` +
        `${failedLoad.length} failed ${JSON.stringify(failedLoad.slice(0, 5).map(describeEnd))}; ` +
        `chats rerouted by B after their host moved: ${reroutes}; agents said: ` +
        JSON.stringify(
          agents[0].output.slice(marks[0]).filter((l) => /going away|reconnect|connected/.test(l)),
        ),
    );

    expect(exitCode).toBe(0);
    for (const end of [...endsA, ...endsB]) expect(describeEnd(end)).toMatch(/^200 done=true/);
    for (const ms of moved) expect(ms).toBeLessThan(5_000);
    expect(loadResults.length).toBeGreaterThan(instances.length * LOOPS_PER_INSTANCE * 2);
    expect(failedLoad.map(describeEnd)).toEqual([]);
  });
});
