import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFakeModel, type FakeModel } from '../../../test/support/fake-model-server';
import { freePort } from '../../../test/support/redis-server';
import { eventually } from '../../../test/support/eventually';
import { createMemoryLogger } from './logger';
import { DETAIL_REPORT_MS, EARLY_PROBE_MS, ModelHealth } from './model-health';
import { Upstream, type ProbeOutcome } from './upstream';

/** A health loop over scripted probe outcomes and a hand-moved clock. */
function scripted(outcomes: ProbeOutcome[], intervalMs = 60_000) {
  let now = 0;
  let probes = 0;
  const reports: ProbeOutcome[] = [];
  const logger = createMemoryLogger();
  const health = new ModelHealth({
    probe: async () => {
      probes++;
      return outcomes[Math.min(probes - 1, outcomes.length - 1)];
    },
    intervalMs,
    upstreamUrl: 'http://127.0.0.1:11434/v1',
    logger,
    report: (o) => reports.push(o),
    now: () => now,
  });
  return { health, reports, logger, probes: () => probes, advance: (ms: number) => (now += ms) };
}

const down: ProbeOutcome = {
  status: 'unreachable',
  detail: 'GET /models: connect ECONNREFUSED 127.0.0.1:11434',
};
const up: ProbeOutcome = { status: 'ok', detail: 'GET /models answered HTTP 200' };

describe('ModelHealth (the probe loop)', () => {
  it('reports the first outcome and then only changes; says each change once, with what to do', async () => {
    const t = scripted([up, up, down, down, up]);
    for (let i = 0; i < 5; i++) await t.health.probeNow();
    expect(t.reports.map((r) => r.status)).toEqual(['ok', 'unreachable', 'ok']);
    expect(t.logger.lines.map((l) => l.level)).toEqual(['warn', 'info']);
    expect(t.logger.lines[0].message).toMatch(
      /^model server at http:\/\/127\.0\.0\.1:11434\/v1 is unreachable \(GET \/models: connect ECONNREFUSED .*\) — start the model server/,
    );
    expect(t.logger.lines[1].message).toMatch(/answers again/);
    t.health.stop();
  });

  it('a detail that changes under the same status is reported at most every DETAIL_REPORT_MS', async () => {
    const e = (n: number): ProbeOutcome => ({ status: 'error', detail: `HTTP 500 at ${n}` });
    const t = scripted([e(1), e(2), e(3), e(4)]);
    await t.health.probeNow();
    await t.health.probeNow();
    t.advance(DETAIL_REPORT_MS);
    await t.health.probeNow();
    await t.health.probeNow();
    expect(t.reports.map((r) => r.detail)).toEqual(['HTTP 500 at 1', 'HTTP 500 at 3']);
    t.health.stop();
  });

  it('a failed chat asks for a probe now, at most every EARLY_PROBE_MS', async () => {
    const t = scripted([up]);
    await t.health.probeNow();
    t.health.chatFailed();
    expect(t.probes()).toBe(1);
    t.advance(EARLY_PROBE_MS);
    t.health.chatFailed();
    t.health.chatFailed();
    await eventually(() => t.probes() === 2, 1_000);
    t.health.stop();
  });

  it('probes at start and every interval until stopped', async () => {
    const t = scripted([up], 20);
    await t.health.start();
    await eventually(() => t.probes() >= 4, 2_000);
    t.health.stop();
    const after = t.probes();
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(t.probes()).toBeLessThanOrEqual(after + 1);
  });
});

describe('Upstream.probe (against real servers)', () => {
  let model: FakeModel | undefined;
  let server: Server | undefined;
  let upstream: Upstream | undefined;
  afterEach(async () => {
    upstream?.close();
    await model?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    model = server = upstream = undefined;
  });

  it('ok on a 2xx, unreachable with nobody listening', async () => {
    model = await startFakeModel({ models: ['m1'] });
    upstream = new Upstream({ baseUrl: model.url });
    expect(await upstream.probe('/models', 1_000)).toEqual({
      status: 'ok',
      detail: 'GET /models answered HTTP 200',
    });
    const port = await freePort();
    const dead = new Upstream({ baseUrl: `http://127.0.0.1:${port}/v1` });
    const outcome = await dead.probe('/models', 1_000);
    dead.close();
    expect(outcome.status).toBe('unreachable');
    expect(outcome.detail).toMatch(/^GET \/models: .*ECONNREFUSED/);
  });

  it('error on a non-2xx answer, with its status and the start of its body; unreachable on a timeout', async () => {
    server = createServer((req, res) => {
      if (req.url === '/v1/slow') return; // never answers
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'model loading\n'.repeat(50) }));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    upstream = new Upstream({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` });
    const failed = await upstream.probe('/models', 1_000);
    expect(failed.status).toBe('error');
    expect(failed.detail).toMatch(/^GET \/models answered HTTP 503: \{"error":"model loading\\n/);
    expect(failed.detail.length).toBeLessThan(200);
    expect(await upstream.probe('/slow', 100)).toEqual({
      status: 'unreachable',
      detail: 'GET /slow: no answer within 100 ms',
    });
  });
});
