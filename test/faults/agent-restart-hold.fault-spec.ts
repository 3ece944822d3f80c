import { setTimeout as sleep } from 'node:timers/promises';
import { TestCluster } from '../support/cluster';
import type { FakeModel } from '../support/fake-model-server';
import type { RunningRegistry, TestProcess } from '../support/processes';
import { eventually, instanceDetail, Registered } from '../support/registry-client';
import { contentOf, readSse } from '../support/sse';

const CHATS = 10;
const RESTART_AFTER_MS = 3_000;
const ANSWER = 'Hello from the fake model';

interface Outcome {
  label: string;
  status: number;
  text: string;
  /** SSE keepalive comments received (streamed chats only). */
  comments: number;
  /** Date.now() when the answer was complete. */
  endedAt: number;
}

/**
 * Issue #13, fault 2: the only agent stops, 10 chats arrive (streamed and not, through both
 * nodes), the agent starts again 3 s later. With the default CHAT_HOLD_MS (10 s) every chat waits
 * for it and is answered.
 */
describe('fault: the only agent restarts while chats arrive', () => {
  let cluster: TestCluster;
  let nodeA: RunningRegistry;
  let nodeB: RunningRegistry;
  let model: FakeModel;
  let instance: Registered;
  let agent: TestProcess;

  const startReplica = () => cluster.agent(instance, model, { replica: 'only' });

  beforeAll(async () => {
    // CHAT_HOLD_MS is left at its default; keepalives every 500 ms so that a held stream shows them.
    cluster = await TestCluster.start({ label: 'restart-hold', nodes: 2, env: { CHAT_KEEPALIVE_MS: '500' } });
    [nodeA, nodeB] = cluster.nodes;
    model = await cluster.model({ chunks: 5, delayMs: 20 });
    instance = await cluster.register('restarting agent');
    agent = await startReplica();
    await cluster.waitOnline(instance, { via: [nodeB], withinMs: 3_000 });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  /** One chat through `node`, read to its end (bounded well beyond the hold). */
  async function ask(node: RunningRegistry, stream: boolean, i: number): Promise<Outcome> {
    const url = `${node.url}/api/chat/${instance.instanceId}`;
    const label = `#${i} via ${node === nodeA ? 'A' : 'B'} stream=${stream}`;
    const body = { messages: [{ role: 'user', content: `chat ${i}` }], stream };
    const signal = AbortSignal.timeout(30_000);
    if (stream) {
      const result = await readSse(url, body, { signal });
      const text = result.done ? contentOf(result.data) : result.data.join('');
      return { label, status: result.status, text, comments: result.comments, endedAt: Date.now() };
    }
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal,
    });
    const raw = await res.text();
    let text = raw;
    try {
      text = (JSON.parse(raw) as { choices: Array<{ message: { content: string } }> }).choices[0].message
        .content;
    } catch {
      // not a completion: keep the raw body for the assertion message
    }
    return { label, status: res.status, text, comments: 0, endedAt: Date.now() };
  }

  it.each(['SIGTERM', 'SIGKILL'] as const)(
    'stopped with %s and started again 3 s later: all 10 chats sent meanwhile complete',
    async (signal) => {
      await agent.stop(signal);
      for (const node of [nodeA, nodeB])
        await eventually(async () => (await instanceDetail(node.url, instance)).status === 'offline', 5_000);

      const chats = Array.from({ length: CHATS }, (_, i) => ask(i % 2 === 0 ? nodeA : nodeB, i % 4 < 2, i));
      await sleep(RESTART_AFTER_MS);
      const restartAt = Date.now();
      agent = await startReplica();
      const outcomes = await Promise.all(chats);
      console.log(
        `agent restart (${signal}): ${outcomes.map((o) => `${o.label} → ${o.status} ${o.endedAt - restartAt} ms after the restart, ${o.comments} keepalives`).join('; ')}`,
      );

      for (const o of outcomes) expect(`${o.label} ${o.status} ${o.text}`).toBe(`${o.label} 200 ${ANSWER}`);
      // Every chat was held until the agent came back, not answered (or refused) before.
      for (const o of outcomes) expect(o.endedAt).toBeGreaterThanOrEqual(restartAt);
      // A held stream is kept alive meanwhile.
      for (const o of outcomes.filter((x) => x.label.includes('stream=true')))
        expect(o.comments).toBeGreaterThan(0);
    },
  );
});
