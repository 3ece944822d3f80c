/** Small numeric summaries for fault and load tests. */
import { percentile } from '@app/common';

export function summary(values: readonly number[], unit = 'ms'): string {
  const f = (n: number) => `${Math.round(n * 10) / 10}${unit}`;
  return (
    `n=${values.length} min=${f(Math.min(...values))} p50=${f(percentile(values, 50))} ` +
    `p90=${f(percentile(values, 90))} p99=${f(percentile(values, 99))} max=${f(Math.max(...values))}`
  );
}

/** A text histogram with `buckets` equal-width bars between the smallest and largest value. */
export function histogram(values: readonly number[], buckets = 10, unit = 'ms', width = 40): string {
  if (values.length === 0) return '(no values)';
  const min = Math.min(...values);
  const max = Math.max(...values);
  const size = Math.max(1, Math.ceil((max - min + 1) / buckets));
  const counts = new Array<number>(buckets).fill(0);
  for (const v of values) counts[Math.min(buckets - 1, Math.floor((v - min) / size))]++;
  const top = Math.max(...counts);
  return counts
    .map((count, i) => {
      const from = min + i * size;
      const label = `${String(from).padStart(6)}-${String(from + size - 1).padEnd(6)}${unit}`;
      return `${label} ${String(count).padStart(5)} ${'#'.repeat(Math.round((count / top) * width))}`;
    })
    .join('\n');
}
