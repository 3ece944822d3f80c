import type { Granularity, UsagePeriod } from './api';

const MINUTE_MS = 60_000;
const STEP_MS: Record<Granularity, number> = {
  minute: MINUTE_MS,
  hour: 60 * MINUTE_MS,
  day: 1440 * MINUTE_MS,
};
/** How far back each granularity looks: an hour of minutes, a day of hours, a month of days. */
const PERIODS: Record<Granularity, number> = { minute: 60, hour: 24, day: 30 };

/** The window to ask for: whole periods (UTC, like the registry's date_trunc) ending with the current one. */
export function usageWindow(granularity: Granularity, now: number): { from: Date; to: Date } {
  const step = STEP_MS[granularity];
  const current = now - (now % step);
  return { from: new Date(current - (PERIODS[granularity] - 1) * step), to: new Date(current + step) };
}

/** Every period of the window, with zeros where the registry reported none (it lists periods with chats only). */
export function fillPeriods(
  items: UsagePeriod[],
  granularity: Granularity,
  from: Date,
  to: Date,
): UsagePeriod[] {
  const byStart = new Map(items.map((item) => [new Date(item.start).getTime(), item]));
  const periods: UsagePeriod[] = [];
  for (let start = from.getTime(); start < to.getTime(); start += STEP_MS[granularity]) {
    const found = byStart.get(start);
    periods.push(
      found ?? {
        start: new Date(start).toISOString(),
        requests: 0,
        errors: 0,
        prompt_tokens: 0,
        completion_tokens: 0,
        avg_ttft_ms: null,
      },
    );
  }
  return periods;
}
