/**
 * Many concurrent streams at a model's pace (the paced fake model waits `delayMs` between
 * chunks): what the relay adds between tokens. Excess = gap seen by the caller − the model's
 * delay; the direct path shows what the model and client themselves add on this machine.
 */
import { SseClient } from '../http-client';
import { Failures, failuresOf, paced } from '../load';
import { PATH_LABELS, pathProcesses, PathKey, probedOnPath, RELAYED, targets } from '../paths';
import { profiled, ProcessProfile } from '../profiling';
import { CpuMeter } from '../proc';
import { round, roundSummary, summarize, Summary } from '../stats';
import type { Scenario } from './scenario';

export interface PathPaced {
  path: PathKey;
  streams: number;
  tokensPerSecondPerStream: number;
  ttft: Summary;
  /** Inter-token gap at the caller minus the model's delay, ms. */
  excess: Summary;
  failures: Failures;
  cpu: Record<string, number>;
  wallMs: number;
}

export async function pacedStreams(
  s: Scenario,
  keys: PathKey[],
  profile?: { stamp: string; out: ProcessProfile[] },
): Promise<PathPaced[]> {
  const { settings, deployment } = s;
  const { chunks, delayMs, rampMs } = settings.paced;
  const out: PathPaced[] = [];
  for (const streams of settings.paced.streams) {
    for (const target of targets(deployment, 'paced', keys)) {
      const key = target.name as PathKey;
      s.log(`  ${streams} paced streams, ${key}`);
      const client = new SseClient();
      try {
        const opts = { timeoutMs: settings.requestTimeoutMs + chunks * delayMs, expectChunks: chunks + 1 };
        // Warm-up: the same streams once, so connection pools (client, agent → model) are full.
        if (settings.paced.warmup) await paced(client, target, streams, rampMs, opts);
        const measure = async () => {
          const meter = new CpuMeter(pathProcesses(deployment, key, 'paced'));
          const run = await paced(client, target, streams, rampMs, opts);
          return { run, cpu: meter.read() };
        };
        // --profile: the paths' processes during the first (lightest) level.
        const { run, cpu } =
          profile && streams === settings.paced.streams[0] && RELAYED.includes(key)
            ? await profiled(
                probedOnPath(deployment, key, 'paced'),
                settings.outDir,
                `${profile.stamp}-paced${streams}-${key}`,
                `${streams} paced streams, ${PATH_LABELS[key]}`,
                measure,
              ).then((p) => {
                profile.out.push(...p.profiles);
                return p.value;
              })
            : await measure();
        const ok = run.results.filter((r) => r.ok);
        const excess: number[] = [];
        for (const r of ok) for (const gap of r.gaps ?? []) excess.push(gap - delayMs);
        out.push({
          path: key,
          streams,
          tokensPerSecondPerStream: round(1000 / delayMs, 1),
          ttft: roundSummary(summarize(ok.map((r) => r.ttftMs))),
          excess: roundSummary(summarize(excess)),
          failures: failuresOf(run.results),
          cpu: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round(v, 2)])),
          wallMs: round(run.wallMs, 0),
        });
      } finally {
        client.close();
      }
    }
  }
  return out;
}
