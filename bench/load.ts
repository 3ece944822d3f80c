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
 * Concurrency 1: `count` rounds, each sending one request to every target in turn (the order
 * rotates every round), so slow drift of the machine hits every path alike.
 */
export async function interleaved(
  client: SseClient,
  targets: readonly Target[],
  count: number,
  opts: RunOptions,
): Promise<Map<string, StreamResult[]>> {
  const out = new Map(targets.map((t) => [t.name, [] as StreamResult[]]));
  for (let round = 0; round < count; round++) {
    for (let i = 0; i < targets.length; i++) {
      const target = targets[(round + i) % targets.length];
      out.get(target.name)!.push(await client.stream(target, opts));
    }
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
