import type { NodeStats } from '@app/contracts';

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0;
const isMsOrNull = (value: unknown): value is number | null => value === null || isCount(value);

/** Another node's stats as it broadcast them: the fields of NodeStats only; null when one is missing or wrong. */
export function decodeNodeStats(value: Readonly<Record<string, unknown>>): NodeStats | null {
  const { node_id, at, draining, connected_hosts, chats_in_flight, chats_per_second } = value;
  const { ttft_p50_ms, ttft_p99_ms } = value;
  if (
    typeof node_id !== 'string' ||
    !isCount(at) ||
    typeof draining !== 'boolean' ||
    !isCount(connected_hosts) ||
    !isCount(chats_in_flight) ||
    !isCount(chats_per_second) ||
    !isMsOrNull(ttft_p50_ms) ||
    !isMsOrNull(ttft_p99_ms)
  )
    return null;
  return {
    node_id,
    at,
    draining,
    connected_hosts,
    chats_in_flight,
    chats_per_second,
    ttft_p50_ms,
    ttft_p99_ms,
  };
}

/** Cumulative counters read from the node's Prometheus metrics at one moment. */
export interface MetricsSample {
  at: number;
  chats: number;
  /** Cumulative count of first-token times at or below each bucket bound (the last one is +Inf). */
  ttftBuckets: number[];
}

export const RATE_WINDOW_MS = 10_000;
export const QUANTILE_WINDOW_MS = 60_000;

/**
 * The q-quantile (0..1) of a histogram, interpolated inside its bucket as Prometheus'
 * histogram_quantile does; `bounds` are the finite upper bounds in seconds, `cumulative` has one
 * more entry (+Inf). Null for an empty histogram; a value past the last bound reports that bound.
 */
export function histogramQuantileMs(bounds: number[], cumulative: number[], q: number): number | null {
  const total = cumulative[cumulative.length - 1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if (cumulative[i] < rank) continue;
    const lower = i === 0 ? 0 : bounds[i - 1];
    const below = i === 0 ? 0 : cumulative[i - 1];
    const inBucket = cumulative[i] - below;
    const fraction = inBucket > 0 ? (rank - below) / inBucket : 1;
    return Math.round((lower + (bounds[i] - lower) * fraction) * 1000 * 10) / 10;
  }
  return Math.round(bounds[bounds.length - 1] * 1000 * 10) / 10;
}

/** Rate and quantiles between two samples of the same node (oldest first). */
export function statsBetween(
  rateFrom: MetricsSample,
  quantileFrom: MetricsSample,
  now: MetricsSample,
  bounds: number[],
): Pick<NodeStats, 'chats_per_second' | 'ttft_p50_ms' | 'ttft_p99_ms'> {
  const seconds = Math.max(1, now.at - rateFrom.at) / 1000;
  const chats = Math.max(0, now.chats - rateFrom.chats);
  const delta = now.ttftBuckets.map((count, i) => Math.max(0, count - (quantileFrom.ttftBuckets[i] ?? 0)));
  return {
    chats_per_second: Math.round((chats / seconds) * 100) / 100,
    ttft_p50_ms: histogramQuantileMs(bounds, delta, 0.5),
    ttft_p99_ms: histogramQuantileMs(bounds, delta, 0.99),
  };
}
