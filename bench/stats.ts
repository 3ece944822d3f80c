/** Order statistics for latency samples (nearest-rank percentiles: no interpolation, no smoothing). */
import { percentile } from '@app/common';

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = Float64Array.from(values).sort();
  const list = Array.from(sorted);
  let sum = 0;
  for (const v of list) sum += v;
  return {
    n: list.length,
    min: list.length ? list[0] : NaN,
    p50: percentile(list, 50),
    p90: percentile(list, 90),
    p95: percentile(list, 95),
    p99: percentile(list, 99),
    p999: percentile(list, 99.9),
    max: list.length ? list[list.length - 1] : NaN,
    mean: list.length ? sum / list.length : NaN,
  };
}

/** Rounds for JSON output (microsecond resolution is plenty for ms figures). */
export const round = (value: number, digits = 3): number =>
  Number.isFinite(value) ? Number(value.toFixed(digits)) : value;

export function roundSummary(s: Summary): Summary {
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k === 'n' ? v : round(v)])) as Summary;
}
