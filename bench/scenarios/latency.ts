/** Relay overhead at concurrency 1: every path in turn, same client, same body, interleaved. */
import { SseClient, StreamResult } from '../http-client';
import { Failures, failuresOf, interleaved } from '../load';
import { PATH_LABELS, PathKey, targets } from '../paths';
import { profiled, ProcessProfile } from '../profiling';
import { CpuMeter } from '../proc';
import { round, roundSummary, summarize, Summary } from '../stats';
import type { Scenario } from './scenario';

export interface PathLatency {
  path: PathKey;
  /** Time to first token. */
  ttft: Summary;
  /** Time to the end of the answer. */
  total: Summary;
  failures: Failures;
  /** Share of requests sent on a reused keep-alive connection. */
  reused: number;
  /**
   * CPU per request of the processes serving only this path (µs): the embedded node and its
   * agent; the distributed nodes and agent serve two paths, so they are not split here.
   */
  cpuPerRequestUs?: Record<string, number>;
  /**
   * TTFT overhead robust to bursts of load from outside: the run split into BLOCKS consecutive
   * blocks, p50 of this path minus p50 of direct in each, and the median of those (ms).
   */
  blockOverheadP50?: number;
}

const BLOCKS = 10;

function blockOverhead(path: StreamResult[], direct: StreamResult[]): number {
  const size = Math.max(1, Math.floor(path.length / BLOCKS));
  const p50 = (list: StreamResult[]) => summarize(list.filter((r) => r.ok).map((r) => r.ttftMs)).p50;
  const blocks: number[] = [];
  for (let from = 0; from + size <= path.length; from += size)
    blocks.push(p50(path.slice(from, from + size)) - p50(direct.slice(from, from + size)));
  return summarize(blocks.filter(Number.isFinite)).p50;
}

export async function latencyAtConcurrency1(
  { settings, deployment }: Scenario,
  keys: PathKey[],
  warmup: number,
  requests: number,
  options: {
    /** Profile the embedded node and its agent while measuring. */
    profile?: { stamp: string; out: ProcessProfile[] };
    /** Runs at the end of every round, warm-up rounds included (`measuring` false for those). */
    afterRound?: (measuring: boolean) => Promise<void>;
  } = {},
): Promise<PathLatency[]> {
  const { profile, afterRound } = options;
  const client = new SseClient();
  try {
    const list = targets(deployment, 'burst', keys);
    const opts = { timeoutMs: settings.requestTimeoutMs, expectChunks: settings.burstChunks + 1 };
    await interleaved(client, list, warmup, opts, afterRound && (() => afterRound(false)));
    const meter = new CpuMeter({
      registry: deployment.embedded.pid,
      agent: deployment.agents.embeddedBurst.pid,
    });
    const measure = async () => {
      const started = performance.now();
      const out = await interleaved(client, list, requests, opts, afterRound && (() => afterRound(true)));
      const cores = meter.read();
      const seconds = (performance.now() - started) / 1000;
      for (const [k, v] of Object.entries(cores)) embeddedCpu[k] = round((v * seconds * 1e6) / requests, 0);
      return out;
    };
    const embeddedCpu: Record<string, number> = {};
    const byPath =
      profile && keys.includes('embedded')
        ? await profiled(
            [deployment.embedded, deployment.agents.embeddedBurst],
            settings.outDir,
            `${profile.stamp}-c1-embedded`,
            `concurrency 1, ${PATH_LABELS.embedded} (${requests} of its requests among the others)`,
            measure,
          ).then((p) => {
            profile.out.push(...p.profiles);
            return p.value;
          })
        : await measure();
    return keys.map((path) => {
      const results = byPath.get(path)!;
      const ok = results.filter((r) => r.ok);
      return {
        path,
        ttft: roundSummary(summarize(ok.map((r) => r.ttftMs))),
        total: roundSummary(summarize(ok.map((r) => r.totalMs))),
        failures: failuresOf(results),
        reused: results.filter((r) => r.reused).length / Math.max(1, results.length),
        ...(path === 'embedded' ? { cpuPerRequestUs: embeddedCpu } : {}),
        ...(path !== 'direct' && byPath.has('direct')
          ? { blockOverheadP50: round(blockOverhead(results, byPath.get('direct')!)) }
          : {}),
      };
    });
  } finally {
    client.close();
  }
}

/** One path at concurrency 1 on its own: TTFT p50 of each pass (ms). */
export interface PathAlone {
  path: PathKey;
  ttftP50: number[];
  failures: Failures;
}

/**
 * Concurrency 1, each path on its own: `warmup` requests, then `requests` back to back, path after
 * path; then the same in reverse order (drift of the machine hits the first and last paths alike).
 * Unlike the interleaved rounds, a path's processes stay warm between its requests: what a lone
 * busy caller sees, where the interleaved rounds show what a request to processes that slept costs.
 */
export async function latencyAlone(
  { settings, deployment }: Scenario,
  keys: PathKey[],
): Promise<PathAlone[]> {
  const { warmup, requests } = settings.alone;
  const client = new SseClient();
  const opts = { timeoutMs: settings.requestTimeoutMs, expectChunks: settings.burstChunks + 1 };
  const list = targets(deployment, 'burst', keys);
  const out = new Map(keys.map((k) => [k, { path: k, ttftP50: [] as number[], all: [] as StreamResult[] }]));
  try {
    for (const order of [list, [...list].reverse()]) {
      for (const target of order) {
        for (let i = 0; i < warmup; i++) await client.stream(target, opts);
        const results: StreamResult[] = [];
        for (let i = 0; i < requests; i++) results.push(await client.stream(target, opts));
        const entry = out.get(target.name as PathKey)!;
        entry.all.push(...results);
        entry.ttftP50.push(round(summarize(results.filter((r) => r.ok).map((r) => r.ttftMs)).p50));
      }
    }
  } finally {
    client.close();
  }
  return [...out.values()].map(({ path, ttftP50, all }) => ({ path, ttftP50, failures: failuresOf(all) }));
}
