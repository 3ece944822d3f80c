import {
  USAGE_ENDPOINTS,
  type EndpointUsage,
  type Granularity,
  type RefusedCounts,
  type UsageEndpoint,
  type UsagePeriod,
  type UsageReport,
} from './api';

const MINUTE_MS = 60_000;
const STEP_MS: Record<Granularity, number> = {
  minute: MINUTE_MS,
  hour: 60 * MINUTE_MS,
  day: 1440 * MINUTE_MS,
};
/** How far back each granularity looks: an hour of minutes, a day of hours, a month of days. */
const PERIODS: Record<Granularity, number> = { minute: 60, hour: 24, day: 30 };

/**
 * A period's start as a label: the time for minutes (the window is an hour), the date and hour for
 * hours (the window crosses midnight: times alone seemed to run backwards), the date for days.
 */
export function periodLabel(start: string, granularity: Granularity): string {
  const date = new Date(start);
  if (granularity === 'day') return date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  const time = { hour: '2-digit', minute: '2-digit' } as const;
  return granularity === 'hour'
    ? date.toLocaleString(undefined, { month: 'short', day: 'numeric', ...time })
    : date.toLocaleTimeString(undefined, time);
}

/** Refused calls of a period (or an endpoint) in all (a registry older than refusal counts reports none). */
export const refusedTotal = (period: Pick<UsagePeriod, 'refused'>) =>
  Object.values<number>(period.refused).reduce((sum, n) => sum + n, 0);

export const ENDPOINT_LABELS: Record<UsageEndpoint, string> = {
  chat: 'Chat',
  embeddings: 'Embeddings',
  completions: 'Completions',
  responses: 'Responses',
  messages: 'Messages (Anthropic)',
  rerank: 'Rerank',
  transcriptions: 'Audio transcriptions',
};

/** The endpoints that had usage in the window, chat first then as the registry lists them, with a label. */
export function endpointRows(
  byEndpoint: UsageReport['by_endpoint'] = {},
): Array<{ endpoint: UsageEndpoint; label: string; usage: EndpointUsage }> {
  return USAGE_ENDPOINTS.flatMap((endpoint) => {
    const usage = byEndpoint[endpoint];
    return usage ? [{ endpoint, label: ENDPOINT_LABELS[endpoint], usage }] : [];
  });
}

/** "401: 3, 429: 1": the statuses a period's refused calls got. */
export const refusedBreakdown = (refused: Partial<RefusedCounts> = {}) =>
  Object.entries(refused)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${status}: ${n}`)
    .join(', ');

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
        refused: { 401: 0, 403: 0, 422: 0, 429: 0, 503: 0 },
        avg_ttft_ms: null,
      },
    );
  }
  return periods;
}
