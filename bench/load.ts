/** Load shapes: one request at a time (paths interleaved), a closed loop of N streams, paced streams. */
import { SseClient, StreamResult, Target } from './http-client';

export interface RunOptions {
  timeoutMs: number;
  expectChunks?: number;
}

/** Failed requests are counted, and a few of their errors kept for the report. */
export interface Failures {
  count: number;
  samples: string[];
}

export function failuresOf(results: readonly StreamResult[]): Failures {
  const failed = results.filter((r) => !r.ok);
  return { count: failed.length, samples: [...new Set(failed.map((r) => r.error ?? '?'))].slice(0, 3) };
}

/**
 * Round orders for `n` paths forming a Williams design (a balanced Latin square): over a cycle of
 * rounds every path takes every position equally often AND follows every other path equally often
 * (n rounds for even n, 2n for odd n). A plain rotation (A B C D, B C D A, …) keeps the same
 * neighbours: a path would always run right after the same one and inherit its leftover work
 * (an agent's logging, a node's bookkeeping after the answer ended).
 */
export function balancedOrders(n: number): number[][] {
  const first = Array.from({ length: n }, (_, j) => (j === 0 ? 0 : j % 2 === 1 ? (j + 1) / 2 : n - j / 2));
  const rows = Array.from({ length: n }, (_, r) => first.map((v) => (v + r) % n));
  return n % 2 === 0 ? rows : [...rows, ...rows.map((row) => [...row].reverse())];
}

/**
 * Concurrency 1: `count` rounds, each sending one request to every target in turn, the order of
 * each round from `balancedOrders`, so slow drift of the machine and the leftover work of the
 * previous request hit every path alike. `afterRound`, if given, runs at the end of every round
 * (it follows each path equally often, and each path follows it equally often).
 */
export async function interleaved(
  client: SseClient,
  targets: readonly Target[],
  count: number,
  opts: RunOptions,
  afterRound?: () => Promise<void>,
): Promise<Map<string, StreamResult[]>> {
  const out = new Map(targets.map((t) => [t.name, [] as StreamResult[]]));
  const orders = balancedOrders(targets.length);
  for (let round = 0; round < count; round++) {
    for (const i of orders[round % orders.length]) {
      const target = targets[i];
      out.get(target.name)!.push(await client.stream(target, opts));
    }
    if (afterRound) await afterRound();
  }
  return out;
}

export interface ClosedLoopResult {
  results: StreamResult[];
  wallMs: number;
}

/** `concurrency` workers, each sending its next request when the previous one ends, for `durationMs`. */
export async function closedLoop(
  client: SseClient,
  target: Target,
  concurrency: number,
  durationMs: number,
  opts: RunOptions,
): Promise<ClosedLoopResult> {
  const results: StreamResult[] = [];
  const started = performance.now();
  const deadline = started + durationMs;
  const worker = async () => {
    while (performance.now() < deadline) results.push(await client.stream(target, opts));
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { results, wallMs: performance.now() - started };
}

/** `streams` streams started evenly over `rampMs` (so their token clocks are not in lockstep). */
export async function paced(
  client: SseClient,
  target: Target,
  streams: number,
  rampMs: number,
  opts: RunOptions,
): Promise<{ results: StreamResult[]; wallMs: number }> {
  const started = performance.now();
  const results = await Promise.all(
    Array.from(
      { length: streams },
      (_, i) =>
        new Promise<StreamResult>((resolve) =>
          setTimeout(
            () => resolve(client.stream(target, { ...opts, gaps: true })),
            (i * rampMs) / Math.max(1, streams),
          ),
        ),
    ),
  );
  return { results, wallMs: performance.now() - started };
}
