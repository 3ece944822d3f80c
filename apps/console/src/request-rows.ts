import type { InspectedRequest } from '@app/contracts';

/** Rows the inspector keeps on the page: what the registry keeps per node at most. */
export const MAX_ROWS = 200;
/**
 * Each poll asks again for what ended this long before the newest row it has: nodes' clocks differ
 * a little, and a row written on a node whose clock is behind must not fall between two polls.
 */
export const POLL_OVERLAP_MS = 5_000;

/** `fresh` added to `rows` (a row seen again replaces itself), newest first, at most MAX_ROWS. */
export function mergeRows(
  rows: readonly InspectedRequest[],
  fresh: readonly InspectedRequest[],
): InspectedRequest[] {
  const byId = new Map(rows.map((row) => [row.id, row]));
  for (const row of fresh) byId.set(row.id, row);
  return [...byId.values()].sort((a, b) => Date.parse(b.at) - Date.parse(a.at)).slice(0, MAX_ROWS);
}

/** What the next poll's `since` is (absent: the first poll, everything the nodes keep). */
export function nextSince(rows: readonly InspectedRequest[]): string | undefined {
  if (rows.length === 0) return undefined;
  return new Date(Date.parse(rows[0].at) - POLL_OVERLAP_MS).toISOString();
}

/** How a row's end reads: the status, and for the ones that did not end in an answer, why. */
export function outcomeLabel(row: InspectedRequest): string {
  switch (row.outcome) {
    case 'answered':
      return 'answered';
    case 'refused':
      return 'refused by the registry';
    case 'left':
      return 'caller left';
    default:
      return row.status === 200 ? 'failed mid-answer' : 'failed';
  }
}

/** Milliseconds for a table cell: "—" when there is none. */
export const ms = (value: number | null) => (value === null ? '—' : `${value} ms`);
