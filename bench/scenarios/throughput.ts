/**
 * 64 concurrent streams (closed loop) against the burst model: chunks/s and requests/s per path,
 * latency under that load, and the CPU each process used. Paths take turns, in rounds whose
 * order alternates (A B C D, then D C B A), so drift affects them alike.
 */
import { SseClient, StreamResult } from '../http-client';
import { closedLoop, Failures, failuresOf } from '../load';
import { PATH_LABELS, pathProcesses, PathKey, probedOnPath, RELAYED, targets } from '../paths';
import { CpuMeter } from '../proc';
import { profiled, ProcessProfile } from '../profiling';
import { round, roundSummary, summarize, Summary } from '../stats';
import type { Scenario } from './scenario';

export interface PathThroughput {
  path: PathKey;
  concurrency: number;
  chunksPerSecond: number;
  requestsPerSecond: number;
  ttft: Summary;
  total: Summary;
  failures: Failures;
  /** Cores used per process while measuring (1 = one full core); `bench` is the client. */
  cpu: Record<string, number>;
  measuredMs: number;
}

export async function throughput(
  s: Scenario,
  keys: PathKey[],
  stamp: string,
): Promise<{ paths: PathThroughput[]; profiles: ProcessProfile[] }> {
  const { settings, deployment } = s;
  const opts = { timeoutMs: settings.requestTimeoutMs, expectChunks: settings.burstChunks + 1 };
  const all = targets(deployment, 'burst', keys);
  const acc = new Map(
    keys.map((k) => [k, { results: [] as StreamResult[], wallMs: 0, cpu: [] as Record<string, number>[] }]),
  );
  const profiles: ProcessProfile[] = [];

  for (let round = 0; round < settings.throughput.rounds; round++) {
    const order = round % 2 === 0 ? all : [...all].reverse();
    for (const target of order) {
      const key = target.name as PathKey;
      const client = new SseClient();
      try {
        s.log(`  64 streams, ${key}, round ${round + 1}/${settings.throughput.rounds}`);
        await closedLoop(client, target, settings.concurrency, settings.throughput.warmupMs, opts);
        const measure = async () => {
          const benchCpu = process.cpuUsage();
          const meter = new CpuMeter(pathProcesses(deployment, key, 'burst'));
          const run = await closedLoop(
            client,
            target,
            settings.concurrency,
            settings.throughput.measureMs,
            opts,
          );
          const cpu = meter.read();
          const used = process.cpuUsage(benchCpu);
          cpu.bench = (used.user + used.system) / 1000 / run.wallMs;
          return { run, cpu };
        };
        const { run, cpu } =
          settings.profile && round === 0 && RELAYED.includes(key)
            ? await profiled(
                probedOnPath(deployment, key, 'burst'),
                settings.outDir,
                `${stamp}-c${settings.concurrency}-${key}`,
                `${settings.concurrency} streams, ${PATH_LABELS[key]}`,
                measure,
              ).then((p) => {
                profiles.push(...p.profiles);
                return p.value;
              })
            : await measure();
        const entry = acc.get(key)!;
        entry.results.push(...run.results);
        entry.wallMs += run.wallMs;
        entry.cpu.push(cpu);
      } finally {
        client.close();
      }
    }
  }

  const paths = keys.map((key): PathThroughput => {
    const { results, wallMs, cpu } = acc.get(key)!;
    const ok = results.filter((r) => r.ok);
    const chunks = ok.reduce((n, r) => n + r.chunks, 0);
    const cpuAvg: Record<string, number> = {};
    for (const name of Object.keys(cpu[0] ?? {}))
      cpuAvg[name] = round(cpu.reduce((n, c) => n + c[name], 0) / cpu.length, 2);
    return {
      path: key,
      concurrency: settings.concurrency,
      chunksPerSecond: round((chunks / wallMs) * 1000, 0),
      requestsPerSecond: round((ok.length / wallMs) * 1000, 1),
      ttft: roundSummary(summarize(ok.map((r) => r.ttftMs))),
      total: roundSummary(summarize(ok.map((r) => r.totalMs))),
      failures: failuresOf(results),
      cpu: cpuAvg,
      measuredMs: round(wallMs, 0),
    };
  });
  return { paths, profiles };
}
