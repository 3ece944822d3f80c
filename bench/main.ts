/**
 * The benchmark suite: `npm run bench` (full, a few minutes) or `npm run bench:smoke` (seconds).
 * Starts everything on loopback, measures relay overhead, throughput, paced streams, connection
 * scale, cost independence and replicas side by side, prints a table and writes bench/results/<time>.json.
 * Exit code: 0 when every request succeeded (targets missed or not), 1 on any failure; with
 * --gate, also 1 when a gate check fails (gate.ts).
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Cleanup } from './cleanup';
import { deploy } from './deployment';
import { ALL_PATHS, ALONE_PATHS, deployedPaths, OVERHEAD_PATHS } from './paths';
import { childPids, Load, LoadMeter, machineBusyCores, machineInfo } from './proc';
import type { ProcessProfile } from './profiling';
import { RoundTripSamples } from './redis-round-trip';
import { GateCheck, gateChecks, renderGate } from './gate';
import { floorFigures, render, Results, verdicts } from './report';
import { latencyAlone, latencyAtConcurrency1 } from './scenarios/latency';
import { pacedStreams } from './scenarios/paced';
import { replicas } from './scenarios/replicas';
import { scaleAndCost } from './scenarios/scale';
import type { Scenario } from './scenarios/scenario';
import { throughput } from './scenarios/throughput';
import { parseSettings, Section, UsageError } from './settings';

const ROOT = path.resolve(__dirname, '../..');
/** A run that takes longer than this is stopped (the full mode normally needs about 9 minutes, smoke under a minute). */
const HARD_LIMIT_MS = { full: 16 * 60_000, smoke: 120_000, gate: 8 * 60_000 };

function newestSource(dir: string, depth = 0): number {
  let newest = 0;
  if (depth > 8) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'generated' || entry.name === 'results') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full, depth + 1));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

function staleBuildWarning(): string | null {
  const built = statSync(__filename).mtimeMs;
  const sources = Math.max(
    ...['apps', 'libs', 'bench', 'test/support'].map((d) => newestSource(path.join(ROOT, d))),
  );
  return sources > built
    ? 'dist/ is older than the sources: run `npm run build` first to measure the current code'
    : null;
}

const duration = (ms: number) =>
  ms < 60_000
    ? `${(ms / 1000).toFixed(1)} s`
    : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;

async function main(): Promise<number> {
  const settings = parseSettings(process.argv.slice(2), path.join(ROOT, 'bench/results'));
  const started = Date.now();
  const stamp = new Date(started).toISOString().replace(/[:.]/g, '-');
  const log = (line: string) =>
    process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1)} s] ${line}\n`);
  const warnings: string[] = [];
  const stale = staleBuildWarning();
  if (stale) {
    warnings.push(stale);
    log(`WARNING: ${stale}`);
  }
  mkdirSync(settings.outDir, { recursive: true });
  const machine = machineInfo(ROOT);
  // Anything else running on these cores skews every figure: say so.
  const backgroundBefore = await machineBusyCores(settings.mode === 'full' ? 2_000 : 300);
  if (backgroundBefore > 0.25) {
    const line = `other processes were using ${backgroundBefore.toFixed(2)} of ${machine.cores} cores before the run started: figures will be noisy`;
    warnings.push(line);
    log(`WARNING: ${line}`);
  }

  const cleanup = new Cleanup();
  // Kills, by pid, children that were interrupted mid-start (before their own stop step existed).
  const killed = new Set<number>();
  const killLeftovers = () => {
    for (const pid of childPids()) {
      if (killed.has(pid)) continue;
      killed.add(pid);
      try {
        process.kill(pid, 'SIGKILL');
        log(`killed leftover child ${pid}`);
      } catch {
        // already gone
      }
    }
  };
  cleanup.add('kill leftover child processes', killLeftovers);
  const abort = (why: string, code: number) => {
    log(`${why}: cleaning up`);
    void cleanup
      .run()
      .then(() => cleanup.drain(5_000))
      .then(() => {
        killLeftovers();
        process.exit(code);
      });
  };
  process.once('SIGINT', () => abort('SIGINT', 130));
  process.once('SIGTERM', () => abort('SIGTERM', 143));
  const watchdog = setTimeout(
    () => abort(`the run exceeded ${duration(HARD_LIMIT_MS[settings.mode])}`, 1),
    HARD_LIMIT_MS[settings.mode],
  );

  const load: {
    busyCoresBeforeStart: number;
    /** Per section: busy cores of the machine, of this run, of everything else. */
    sections: Partial<Record<Section, Load>>;
    loadAverageAtEnd?: number[];
  } = { busyCoresBeforeStart: Number(backgroundBefore.toFixed(2)), sections: {} };
  const results: Results = {};
  const profiles: ProcessProfile[] = [];
  /** The gate's first verdict, when it failed and the run measured again. */
  let firstGate: GateCheck[] | null = null;
  if (settings.profile) results.profiles = profiles;
  try {
    log(
      `starting (${settings.mode} mode): fake models, floor references, embedded node, two distributed nodes, agents`,
    );
    const deployment = await deploy(settings, cleanup, log);
    const s: Scenario = { settings, deployment, log };
    const all = deployedPaths(deployment, ALL_PATHS);

    const run = (section: Section) => settings.only.includes(section);
    /** Runs a section, noting how busy the machine was meanwhile and how much of it was not us. */
    const measured = async <T>(section: Section, fn: () => Promise<T>): Promise<T> => {
      const meter = new LoadMeter();
      const value = await fn();
      const l = meter.read();
      load.sections[section] = l;
      if (l.others > 0.3) {
        const line = `during "${section}" processes outside this run (not counting Redis and PostgreSQL) used ${l.others} cores`;
        warnings.push(line);
        log(`WARNING: ${line}`);
      }
      return value;
    };

    const overheadAndThroughput = async () => {
      if (run('overhead')) {
        log('1. relay overhead at concurrency 1 (and a Redis pub/sub round trip after every round)');
        const redis = new RoundTripSamples(deployment.floor.redis, settings.requestTimeoutMs);
        results.overhead = await measured('overhead', () =>
          latencyAtConcurrency1(
            s,
            deployedPaths(deployment, OVERHEAD_PATHS),
            settings.overhead.warmup,
            settings.overhead.requests,
            {
              profile: settings.profile ? { stamp, out: profiles } : undefined,
              afterRound: (measuring) => redis.take(measuring),
            },
          ),
        );
        results.redisRoundTrip = redis.result();
        if (settings.alone.requests > 0) {
          log('1c. concurrency 1, each path on its own (back to back, two passes)');
          results.alone = await latencyAlone(s, deployedPaths(deployment, ALONE_PATHS));
        }
      }
      if (run('throughput')) {
        log(`2. throughput at ${settings.concurrency} streams`);
        const t = await measured('throughput', () => throughput(s, [...all], stamp));
        results.throughput = t.paths;
        profiles.push(...t.profiles);
      }
    };
    await overheadAndThroughput();
    // The gate measures twice before it fails: a burst of outside load must not fail CI, a regression fails both.
    if (settings.mode === 'gate' && gateChecks(results).some((c) => !c.passed)) {
      firstGate = gateChecks(results);
      log(`the gate failed:${renderGate(firstGate)}measuring once more; the second measurement decides`);
      await overheadAndThroughput();
    }
    if (run('paced')) {
      log(`3. paced streams (${settings.paced.streams.join(', ')})`);
      results.paced = await measured('paced', () =>
        pacedStreams(s, [...all], settings.profile ? { stamp, out: profiles } : undefined),
      );
    }
    if (run('scale')) {
      log('4–5. connection scale and cost independence');
      results.scale = await measured('scale', () => scaleAndCost(s));
    }
    if (run('replicas')) {
      const r = settings.replicas;
      log(
        `6. replicas: one instance, models answering one chat at a time (${r.onOneNode.join(', ')} on one node, ${r.split} over two)`,
      );
      results.replicas = await measured('replicas', () => replicas(s));
    }
  } finally {
    clearTimeout(watchdog);
    log('cleaning up');
    await cleanup.run();
  }

  const took = duration(Date.now() - started);
  load.loadAverageAtEnd = os.loadavg();
  const targets = verdicts(results);
  process.stdout.write(`${render(settings, machine, results, targets, took, warnings, load.sections)}\n`);
  const gate = settings.mode === 'gate' ? gateChecks(results) : null;
  if (gate) process.stdout.write(renderGate(gate));
  const failures = [
    ...(results.overhead ?? []),
    ...(results.alone ?? []),
    ...(results.throughput ?? []),
    ...(results.paced ?? []),
    ...(results.scale?.cost.flatMap((c) => c.paths) ?? []),
    ...(results.replicas?.runs ?? []),
  ].reduce((n, p) => n + p.failures.count, results.redisRoundTrip?.failed ?? 0);
  const swarmFailures = results.scale?.steps.reduce((n, st) => n + st.failed, 0) ?? 0;
  const file = path.join(settings.outDir, `${stamp}.json`);
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        mode: settings.mode,
        startedAt: new Date(started).toISOString(),
        durationMs: Date.now() - started,
        note: `All processes (bench client, fake models, host agents, registry nodes, Redis, PostgreSQL) share the same ${machine.cores} cores.`,
        machine,
        load,
        settings,
        results,
        targets,
        floor: floorFigures(results),
        ...(gate ? { gate, ...(firstGate ? { gateFirstAttempt: firstGate } : {}) } : {}),
        failedRequests: failures,
        failedHostConnections: swarmFailures,
        warnings,
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`\nResults: ${path.relative(process.cwd(), file)}\n`);
  if (failures + swarmFailures > 0) {
    process.stderr.write(
      `${failures} requests and ${swarmFailures} host connections failed (see the tables)\n`,
    );
    return 1;
  }
  return gate?.some((c) => !c.passed) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    if (err instanceof UsageError) {
      (err.exitCode === 0 ? process.stdout : process.stderr).write(`${err.message}\n`);
      process.exit(err.exitCode);
    }
    process.stderr.write(`benchmark failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
