export const SECTIONS = ['overhead', 'throughput', 'paced', 'scale', 'replicas'] as const;
export type Section = (typeof SECTIONS)[number];

/**
 * What one run measures, and how much of it: `full` (minutes), `smoke` (seconds: proves the
 * benchmark runs) or `gate` (about two minutes: c=1 and 64 streams, judged against the floors of
 * the same run with wide margins; CI fails when they are missed — see gate.ts).
 */
export interface Settings {
  mode: 'full' | 'smoke' | 'gate';
  /** Profile the registry nodes (V8 CPU profiler) during the 64-stream throughput runs. */
  profile: boolean;
  /** Where results (and profiles) go. */
  outDir: string;
  /** Sections to run (default all). */
  only: Section[];
  /** Start the two nodes on a Redis Cluster and measure the path through them (not judged). */
  cluster: boolean;
  /** Content chunks per answer of the burst model (it writes the whole answer at once). */
  burstChunks: number;
  concurrency: number;
  requestTimeoutMs: number;
  overhead: { warmup: number; requests: number };
  /**
   * Concurrency 1 again, each path on its own: `warmup` then `requests` back to back, in two passes
   * (forward, then in reverse order); 0 requests skips it.
   */
  alone: { warmup: number; requests: number };
  throughput: { warmupMs: number; measureMs: number; rounds: number };
  /** Paced streams: one run per entry of `streams`, all at `delayMs` between tokens. */
  paced: { streams: number[]; chunks: number; delayMs: number; rampMs: number; warmup: boolean };
  scale: {
    /** Idle hosts to hold, in steps (each step adds hosts to reach the figure). */
    hosts: number[];
    settleMs: number;
    /** CPU of the node is measured over this idle window at each step. */
    idleWindowMs: number;
    connectParallel: number;
    registerParallel: number;
  };
  /** Concurrency-1 runs comparing 10 instances with many. */
  cost: { warmup: number; requests: number };
  /**
   * One instance served by several agents, each in front of its own model answering one chat at a
   * time (`chunks` × `delayMs` per answer): every count of `onOneNode` on node A, then `split`
   * replicas half on node A and half on node B; `callersPerReplica` × replicas callers in a closed loop.
   */
  replicas: {
    onOneNode: number[];
    split: number;
    chunks: number;
    delayMs: number;
    callersPerReplica: number;
    warmupMs: number;
    measureMs: number;
  };
}

const FULL: Omit<Settings, 'outDir' | 'profile' | 'only'> = {
  mode: 'full',
  cluster: true,
  burstChunks: 50,
  concurrency: 64,
  requestTimeoutMs: 30_000,
  overhead: { warmup: 200, requests: 2_000 },
  alone: { warmup: 100, requests: 500 },
  throughput: { warmupMs: 1_000, measureMs: 5_000, rounds: 2 },
  paced: { streams: [200, 1_000], chunks: 60, delayMs: 50, rampMs: 1_000, warmup: true },
  scale: {
    hosts: [1_000, 10_000],
    settleMs: 3_000,
    idleWindowMs: 30_000,
    connectParallel: 100,
    registerParallel: 32,
  },
  cost: { warmup: 100, requests: 1_000 },
  replicas: {
    onOneNode: [1, 2, 4],
    split: 4,
    chunks: 20,
    delayMs: 10,
    callersPerReplica: 4,
    warmupMs: 2_000,
    measureMs: 10_000,
  },
};

const SMOKE: Omit<Settings, 'outDir' | 'profile' | 'only'> = {
  mode: 'smoke',
  cluster: true,
  burstChunks: 50,
  concurrency: 64,
  requestTimeoutMs: 10_000,
  overhead: { warmup: 10, requests: 40 },
  alone: { warmup: 5, requests: 20 },
  throughput: { warmupMs: 100, measureMs: 300, rounds: 1 },
  paced: { streams: [20], chunks: 10, delayMs: 20, rampMs: 100, warmup: false },
  scale: { hosts: [20, 50], settleMs: 100, idleWindowMs: 200, connectParallel: 50, registerParallel: 16 },
  cost: { warmup: 3, requests: 15 },
  replicas: {
    onOneNode: [1, 2],
    split: 2,
    chunks: 5,
    delayMs: 10,
    callersPerReplica: 4,
    warmupMs: 0,
    measureMs: 1_000,
  },
};

/** The CI gate: samples large enough for a p50 and a chunks/s to be stable on a busy machine. */
const GATE: Omit<Settings, 'outDir' | 'profile' | 'only'> = {
  ...SMOKE,
  mode: 'gate',
  // It judges nothing on a Redis Cluster: six redis-servers and two nodes less to start and load.
  cluster: false,
  overhead: { warmup: 30, requests: 300 },
  alone: { warmup: 0, requests: 0 },
  throughput: { warmupMs: 300, measureMs: 1_500, rounds: 2 },
};

export const USAGE = `usage: node dist/bench/main.js [--smoke | --gate] [--profile] [--hosts=1000,10000]
                                [--paced=<streams,…>x<delay ms>] [--only=<sections>] [--out=<dir>]
  --smoke     a few seconds, tiny samples (CI: proves the benchmark still runs)
  --gate      ~2 min: c=1 and 64 streams only, exit 1 when the relay falls below wide limits
              against the floors of the same run (CI: catches a hot-path regression)
  --profile   CPU-profile the registry nodes during the 64-stream runs (.cpuprofile + top functions)
  --hosts     idle host counts for the connection-scale steps
  --paced     concurrent paced streams (one run per figure) and the model's delay between tokens
  --only      comma-separated subset of: ${SECTIONS.join(', ')} (scale includes cost independence)
  --out       results directory (default bench/results)`;

/** A command line the benchmark cannot run: printed without a stack; `--help` exits 0. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

export function parseSettings(argv: string[], defaultOut: string): Settings {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new UsageError(`unexpected argument ${arg}\n${USAGE}`);
    flags.set(m[1], m[2] ?? '');
  }
  for (const name of flags.keys())
    if (!['smoke', 'gate', 'profile', 'hosts', 'paced', 'only', 'out', 'help'].includes(name))
      throw new UsageError(`unknown option --${name}\n${USAGE}`);
  if (flags.has('help')) throw new UsageError(USAGE, 0);
  if (flags.has('smoke') && flags.has('gate')) throw new UsageError(`--smoke or --gate, not both\n${USAGE}`);
  const base = flags.has('smoke') ? SMOKE : flags.has('gate') ? GATE : FULL;
  const settings: Settings = {
    ...structuredClone(base),
    profile: flags.has('profile'),
    outDir: flags.get('out') || defaultOut,
    // The gate judges c=1 and 64 streams only.
    only: flags.has('gate') ? ['overhead', 'throughput'] : [...SECTIONS],
  };
  const only = flags.get('only');
  if (only && flags.has('gate'))
    throw new UsageError(`--gate runs its own sections; --only does not apply\n${USAGE}`);
  if (only) {
    const chosen = only.split(',');
    const unknown = chosen.filter((c) => !(SECTIONS as readonly string[]).includes(c));
    if (unknown.length > 0) throw new UsageError(`--only: unknown section ${unknown.join(', ')}\n${USAGE}`);
    settings.only = SECTIONS.filter((c) => chosen.includes(c));
  }
  const hosts = flags.get('hosts');
  if (hosts) {
    settings.scale.hosts = hosts.split(',').map(Number);
    if (settings.scale.hosts.some((n) => !Number.isInteger(n) || n < 1 || n > 50_000))
      throw new UsageError('--hosts takes whole numbers between 1 and 50000, comma-separated');
    settings.scale.hosts.sort((a, b) => a - b);
  }
  const paced = flags.get('paced');
  if (paced) {
    const m = /^([\d,]+)x(\d+)$/.exec(paced);
    const streams = (m?.[1] ?? '').split(',').map(Number);
    if (!m || streams.some((n) => !Number.isInteger(n) || n < 1 || n > 1024) || Number(m[2]) < 1)
      throw new UsageError(
        '--paced takes <streams,…>x<delay ms>, streams 1..1024 (the most one host may run)',
      );
    settings.paced.streams = streams;
    settings.paced.delayMs = Number(m[2]);
  }
  return settings;
}
