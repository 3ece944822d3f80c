import { readKey, TestCluster } from '../support/cluster';
import type { FakeModel } from '../support/fake-model-server';
import { contentOf, startStream } from '../support/sse';
import type { RunningRegistry, TestProcess } from '../support/processes';
import { RawWsClient } from '../support/raw-ws-client';
import { eventually, instanceDetail, Registered } from '../support/registry-client';

const STALE = 'STALE';
const staleChunk = (requestId: string, n: number) =>
  JSON.stringify({
    type: 'chat_response',
    request_id: requestId,
    raw_sse: JSON.stringify({
      id: 'old',
      object: 'chat.completion.chunk',
      created: 0,
      model: 'old',
      choices: [{ index: 0, delta: { content: `${STALE}${n} ` }, finish_reason: null }],
    }),
    done: false,
  });

/**
 * Scenario 5: a second connection with the same credentials while the first one lingers. The
 * first host is a raw client that ignores the close frame and keeps streaming "STALE" chunks for
 * every request it ever got.
 */
describe('fault: a second host connection with the same credentials while the first lingers', () => {
  let cluster: TestCluster;
  let nodeA: RunningRegistry;
  let nodeB: RunningRegistry;
  let model: FakeModel;
  let instance: Registered;
  let oldHost: RawWsClient;
  let newAgent: TestProcess;
  let spam: NodeJS.Timeout | undefined;
  const REPLICA = 'contested-replica';

  beforeAll(async () => {
    cluster = await TestCluster.start({ label: 'dup', nodes: 2, env: { WS_PING_INTERVAL_MS: '1000' } });
    [nodeA, nodeB] = cluster.nodes;
    model = await cluster.model({ chunks: 6 });
    instance = await cluster.register('contested');
  });

  afterAll(async () => {
    clearInterval(spam);
    oldHost?.destroy();
    await cluster?.stop();
  });

  it('has exactly one owner, and no caller of a new request sees the old socket’s frames', async () => {
    // Both connections name the same replica: the newer one must take its place (distinct names would coexist).
    oldHost = await RawWsClient.open(
      nodeA.port,
      `/api/ws/${instance.instanceId}?password=${encodeURIComponent(instance.password)}&replica=${REPLICA}`,
    );
    // It takes several requests at once (a request wrongly given to it is not stuck in a queue) and
    // claims to honour `cancel`, but ignores it.
    oldHost.send(JSON.stringify({ type: 'hello', capabilities: { concurrency: 8, cancel: true } }));
    await cluster.waitOnline(instance, { via: [nodeB] });
    // The old host answers every chat it ever receives with STALE chunks, forever.
    const seen = new Set<string>();
    let n = 0;
    spam = setInterval(() => {
      for (const text of oldHost.messages) {
        const frame = JSON.parse(text) as { type: string; request_id?: string };
        if (frame.type === 'chat' && frame.request_id) seen.add(frame.request_id);
      }
      for (const id of seen) oldHost.send(staleChunk(id, n++));
    }, 50);

    const oldCaller = startStream(`${nodeA.url}/api/chat/${instance.instanceId}`, {
      messages: [{ role: 'user', content: 'first' }],
    });
    await oldCaller.firstData;

    const supersededAt = Date.now();
    newAgent = await cluster.agent(instance, model, { node: nodeB, replica: REPLICA });
    const ownerKey = `${cluster.prefix}:owner:${instance.instanceId}/${REPLICA}`;
    await eventually(
      async () => (await readKey(cluster.redisUrl, ownerKey))?.startsWith(`${nodeB.nodeId}|`) ?? false,
      3_000,
    );
    const movedMs = Date.now() - supersededAt;

    // New requests, on both nodes, right after the takeover: all must be answered by the new host.
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) {
      const node = i % 2 === 0 ? nodeA : nodeB;
      const stream = startStream(`${node.url}/api/chat/${instance.instanceId}`, {
        messages: [{ role: 'user', content: `new ${i}` }],
      });
      // A request wrongly given to the old host would never end: give up after 3 s.
      const timer = setTimeout(() => stream.abort(), 3_000);
      const result = await stream.ended;
      clearTimeout(timer);
      const text = result.status === 200 ? contentOf(result.data) : result.data.join('');
      answers.push(`${node === nodeA ? 'A' : 'B'}:${result.status}:${result.done}:${text}`);
    }

    // The old request's caller goes away. Whether the registry closed the old socket at the takeover
    // or let it finish its stream first, it must now be closed with 4409 and not linger.
    const leftAt = Date.now();
    oldCaller.abort();
    const oldEnd = await oldCaller.ended;
    await oldHost.until(() => !oldHost.open, 5_000).catch(() => undefined);
    const oldClosedMs = oldHost.endedAt ? oldHost.endedAt - Math.min(leftAt, oldHost.endedAt) : null;
    // It kept sending frames for its old request id all along: nobody may see them now.
    const late = startStream(`${nodeA.url}/api/chat/${instance.instanceId}`, {
      messages: [{ role: 'user', content: 'after' }],
    });
    const lateTimer = setTimeout(() => late.abort(), 3_000);
    const lateEnd = await late.ended;
    clearTimeout(lateTimer);
    answers.push(`A:${lateEnd.status}:${lateEnd.done}:${contentOf(lateEnd.data)}`);
    console.log(
      `duplicate connection: ownership moved to B after ${movedMs} ms; the old request ended ` +
        `done=${oldEnd.done} error=${oldEnd.error?.code ?? null} transport=${oldEnd.transportError} after ` +
        `${oldEnd.data.length} events; the old socket got close ${oldHost.closeCode}, its TCP connection ended ` +
        `${oldHost.endedAt ? oldHost.endedAt - supersededAt : null} ms after the takeover; new answers: ${JSON.stringify(answers)}`,
    );

    for (const answer of answers) {
      expect(answer).not.toContain(STALE);
      expect(answer).toMatch(/^[AB]:200:true:Hello from the fake model\.$/);
    }
    expect(oldHost.closeCode).toBe(4409);
    expect(oldClosedMs).not.toBeNull();
    expect(oldClosedMs!).toBeLessThan(5_000);
    expect(oldEnd.done).toBe(false);
    expect(newAgent.running).toBe(true);
    expect((await instanceDetail(nodeA.url, instance)).status).toBe('online');
    expect(await readKey(cluster.redisUrl, ownerKey)).toMatch(new RegExp(`^${nodeB.nodeId}\\|`));
  });
});
