import { startClusterWithAgent, TestCluster } from '../support/cluster';
import { FakeModel } from '../support/fake-model-server';
import { RunningRegistry, TestProcess } from '../support/processes';
import { Registered } from '../support/registry-client';
import { startStream } from '../support/sse';

/** Scenario 2: SIGKILL of the node serving the caller while the host (on another node) streams. */
describe('fault: the node serving the caller is SIGKILLed mid-stream', () => {
  let cluster: TestCluster;
  let holder: RunningRegistry;
  let model: FakeModel;
  let agent: TestProcess;
  let instance: Registered;

  beforeAll(async () => {
    // Node A holds the host; B and C serve one caller each and are killed in turn.
    // 400 chunks 50 ms apart: a 20 s answer.
    ({ cluster, model, agent, instance } = await startClusterWithAgent(
      { label: 'caller', nodes: 3 },
      { chunks: 400, delayMs: 50 },
    ));
    holder = cluster.nodes[0];
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it.each([
    ['while the model streams', 'a long answer please', 1],
    ['while the model is silent', 'think hard [hang]', 2],
  ])('cancels the upstream request at the host within 2 s (%s)', async (label, content, nodeIndex) => {
    const callerNode = cluster.nodes[nodeIndex];
    const stream = startStream(`${callerNode.url}/api/chat/${instance.instanceId}`, {
      messages: [{ role: 'user', content }],
    });
    await stream.firstData;
    await new Promise((r) => setTimeout(r, 300));
    const aborted = model.nextAbort(10_000);
    const killedAt = Date.now();
    callerNode.proc.signal('SIGKILL');
    const event = await aborted.catch(() => null);
    const end = await stream.ended;
    const abortMs = event ? event.at - killedAt : Infinity;
    console.log(
      `caller node killed ${label}: the model saw its request aborted after ${abortMs} ms ` +
        `(${event?.chunksSent ?? '?'} chunks sent; caller saw "${end.transportError}")`,
    );
    expect(abortMs).toBeLessThan(2_000);
    // The holder and its host are unaffected.
    expect(agent.running).toBe(true);
    expect((await fetch(`${holder.url}/healthz`)).status).toBe(200);
  });
});
