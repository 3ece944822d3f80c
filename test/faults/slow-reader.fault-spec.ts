import { request } from 'node:http';
import { TestCluster } from '../support/cluster';
import { FakeModel, startFakeModel } from '../support/fake-model-server';
import { startStream } from '../support/live-stream';
import { RunningRegistry, startAgent, startFakeModelProcess } from '../support/processes';
import { eventually, instanceDetail, registerInstance, Registered } from '../support/registry-client';
import { percentile, summary } from '../support/stats';

const PACED_STREAMS = 50;
const PACED_CHUNKS = 40;
const PACED_DELAY_MS = 25;
const MAX_BUFFERED = 64 * 1024;

/**
 * Scenario 6: a caller that stops reading while a large answer pours in. Only its own request is
 * cut off; 50 paced streams through the same node (and the same Redis subscriber) keep their pace.
 * Every stream is cross-node (caller on B, hosts on A).
 */
describe('fault: a caller reads very slowly', () => {
  let cluster: TestCluster;
  let nodeB: RunningRegistry;
  let bigModel: FakeModel;
  let paced: Registered;
  let big: Registered;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      label: 'slow',
      nodes: 2,
      env: { CHAT_MAX_BUFFERED_BYTES: String(MAX_BUFFERED) },
    });
    const nodeA = cluster.nodes[0];
    nodeB = cluster.nodes[1];
    const pacedModel = await startFakeModelProcess([
      '--chunks',
      String(PACED_CHUNKS),
      '--delay-ms',
      String(PACED_DELAY_MS),
    ]);
    cluster.track(pacedModel.proc);
    // 8 MiB at once: more than the loopback socket buffers hold, so the registry's own buffer grows.
    bigModel = await startFakeModel({ chunks: 2048, content: () => 'x'.repeat(4096) });
    cluster.onStop(() => bigModel.close());
    [paced, big] = await Promise.all([
      registerInstance(nodeA.url, 'paced'),
      registerInstance(nodeA.url, 'big'),
    ]);
    const agents = await Promise.all([
      startAgent({
        registry: nodeA.url,
        instanceId: paced.instanceId,
        password: paced.password,
        upstream: pacedModel.url,
        env: { HOST_CONCURRENCY: String(PACED_STREAMS * 2) },
      }),
      startAgent({
        registry: nodeA.url,
        instanceId: big.instanceId,
        password: big.password,
        upstream: bigModel.url,
      }),
    ]);
    agents.forEach((a) => cluster.track(a));
    for (const instance of [paced, big])
      await eventually(async () => (await instanceDetail(nodeB.url, instance)).status === 'online', 2_000);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  /** 50 paced streams at once; returns every inter-token gap (ms) and how many ended with [DONE]. */
  async function pacedRun(withSlowReader: boolean) {
    const streams = Array.from({ length: PACED_STREAMS }, () =>
      startStream(`${nodeB.url}/api/chat/${paced.instanceId}`, {
        messages: [{ role: 'user', content: 'paced' }],
      }),
    );
    const slow = withSlowReader
      ? new Promise((r) => setTimeout(r, 150)).then(() => slowReader(nodeB, big.instanceId))
      : null;
    const ends = await Promise.all(streams.map((s) => s.ended));
    const gaps = ends.flatMap((e) => e.arrivals.slice(1).map((t, i) => t - e.arrivals[i]));
    return { gaps, done: ends.filter((e) => e.done).length, slow: await slow };
  }

  it('cuts off only the slow request; the other streams keep their pace', async () => {
    await pacedRun(false); // warm-up
    const without: number[] = [];
    const withSlow: number[] = [];
    const slowResults: Array<Awaited<ReturnType<typeof slowReader>>> = [];
    let done = 0;
    for (let round = 0; round < 3; round++) {
      const a = await pacedRun(false);
      const b = await pacedRun(true);
      without.push(...a.gaps);
      withSlow.push(...b.gaps);
      done += a.done + b.done;
      slowResults.push(b.slow!);
    }
    const stats = (await (await fetch(`${nodeB.url}/healthz`)).json()) as { chats: Record<string, number> };
    const p99Without = percentile(without, 99);
    const p99With = percentile(withSlow, 99);
    console.log(
      `slow reader: ${JSON.stringify(slowResults)}\n` +
        `inter-token gaps without a slow reader: ${summary(without)}\n` +
        `inter-token gaps with a slow reader:    ${summary(withSlow)}\n` +
        `p99 ratio ${(p99With / p99Without).toFixed(3)}; node B outcomes ${JSON.stringify(stats.chats)}`,
    );

    expect(done).toBe(PACED_STREAMS * 6);
    for (const slow of slowResults) {
      expect(slow.status).toBe(200);
      expect(slow.cutOff).toBe(true);
      expect(slow.cutAfterMs).toBeLessThan(5_000);
    }
    expect(stats.chats.slow_reader).toBe(3);
    expect(p99With).toBeLessThanOrEqual(p99Without * 1.1);
  });
});

/** Asks for the big answer and never reads it; resolves when the registry cuts the connection. */
function slowReader(node: RunningRegistry, instanceId: string) {
  return new Promise<{ status: number; cutOff: boolean; cutAfterMs: number }>((resolve) => {
    const started = Date.now();
    const req = request({
      agent: false,
      host: '127.0.0.1',
      port: node.port,
      path: `/api/chat/${instanceId}`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    let status = 0;
    let complete = false;
    const timer = setTimeout(() => {
      req.destroy();
      resolve({ status, cutOff: false, cutAfterMs: Date.now() - started });
    }, 10_000);
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      res.pause();
      res.on('error', () => undefined);
      res.on('close', () => (complete = res.complete));
    });
    req.on('error', () => undefined);
    // The connection ends: either the registry cut us off (an incomplete response) or it finished.
    req.on('close', () => {
      clearTimeout(timer);
      setImmediate(() => resolve({ status, cutOff: !complete, cutAfterMs: Date.now() - started }));
    });
    req.end(JSON.stringify({ messages: [{ role: 'user', content: 'everything, fast' }] }));
  });
}
