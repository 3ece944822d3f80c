import type { Granularity, UsagePeriod } from '../api';
import { periodLabel, refusedTotal } from '../usage-periods';

const WIDTH = 600;
const PANEL = 90;
const GAP = 34;
const LEFT = 48;
const HEIGHT = 2 * PANEL + 2 * GAP + 14;
const LEGEND = [
  ['bar-prompt', 'prompt tokens'],
  ['bar-completion', 'completion tokens'],
  ['bar-requests', 'requests'],
  ['bar-errors', 'errors'],
  ['bar-refused', 'refused before reaching the host'],
];

/** Rounds a maximum up to 1, 2 or 5 × a power of ten, so the axis reads in round numbers. */
function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].find((m) => m * power >= value) ?? 10) * power;
}

interface Bar {
  value: number;
  className: string;
}

/** One panel: bars per period (stacked when a period has several parts), a top and a zero tick. */
function Panel({ top, title, stacks }: { top: number; title: string; stacks: Bar[][] }) {
  const max = niceMax(Math.max(...stacks.map((bars) => bars.reduce((sum, bar) => sum + bar.value, 0))));
  const slot = (WIDTH - LEFT) / Math.max(stacks.length, 1);
  const barWidth = Math.max(slot * 0.7, 1);
  return (
    <g>
      <text x={LEFT} y={top - 8} class="chart-title">
        {title}
      </text>
      <text x={LEFT - 6} y={top + 4} class="chart-tick" text-anchor="end">
        {max.toLocaleString()}
      </text>
      <text x={LEFT - 6} y={top + PANEL} class="chart-tick" text-anchor="end">
        0
      </text>
      <line x1={LEFT} x2={WIDTH} y1={top + PANEL} y2={top + PANEL} class="chart-axis" />
      <line x1={LEFT} x2={WIDTH} y1={top} y2={top} class="chart-grid" />
      {stacks.map((bars, i) => {
        let base = top + PANEL;
        return bars.map((bar) => {
          const h = (bar.value / max) * PANEL;
          base -= h;
          return h > 0 ? (
            <rect
              x={LEFT + i * slot + (slot - barWidth) / 2}
              y={base}
              width={barWidth}
              height={h}
              class={bar.className}
            />
          ) : null;
        });
      })}
    </g>
  );
}

/**
 * Tokens (prompt and completion, stacked) and calls (served, failed, refused) per period, drawn as plain SVG: no chart
 * library for two bar panels. The SVG is one image with a summary; the table beside it has the figures.
 */
interface UsageChartProps {
  periods: UsagePeriod[];
  granularity: Granularity;
  /** Whose usage: "all calls" or "key <name>". */
  subject: string;
}

export function UsageChart({ periods, granularity, subject }: UsageChartProps) {
  const sum = (pick: (p: UsagePeriod) => number) => periods.reduce((total, p) => total + pick(p), 0);
  const summary =
    `Usage of ${subject} per ${granularity}: ${sum((p) => p.requests)} requests (${sum((p) => p.errors)} errors), ` +
    `${sum(refusedTotal)} refused, ${sum((p) => p.prompt_tokens)} prompt and ${sum((p) => p.completion_tokens)} ` +
    `completion tokens in ${periods.length} periods`;
  // Oldest on the left, the current period on the right; the middle label shows the direction.
  const ticks = [
    { period: periods[0], x: LEFT, anchor: 'start' },
    { period: periods[Math.floor(periods.length / 2)], x: (LEFT + WIDTH) / 2, anchor: 'middle' },
    { period: periods.at(-1), x: WIDTH, anchor: 'end' },
  ];
  return (
    <figure class="usage-chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={summary} data-testid="usage-chart">
        <Panel
          top={GAP - 10}
          title="Tokens"
          stacks={periods.map((p) => [
            { value: p.prompt_tokens, className: 'bar-prompt' },
            { value: p.completion_tokens, className: 'bar-completion' },
          ])}
        />
        <Panel
          top={GAP * 2 + PANEL - 10}
          title="Calls"
          stacks={periods.map((p) => [
            { value: p.requests - p.errors, className: 'bar-requests' },
            { value: p.errors, className: 'bar-errors' },
            { value: refusedTotal(p), className: 'bar-refused' },
          ])}
        />
        {ticks.map(({ period, x, anchor }) =>
          period ? (
            <text x={x} y={HEIGHT - 4} class="chart-tick axis-label" text-anchor={anchor}>
              {periodLabel(period.start, granularity)}
            </text>
          ) : null,
        )}
      </svg>
      <figcaption class="legend">
        {LEGEND.map(([className, text]) => (
          <span class="legend-item">
            <span class={`swatch ${className}`} /> {text}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
