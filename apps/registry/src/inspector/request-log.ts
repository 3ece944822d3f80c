import type { RecordedRequest, RequestFilter } from '@app/contracts';

export interface RequestLogLimits {
  /** Requests kept per instance (the newest). */
  perInstance: number;
  /** Requests older than this are dropped. */
  maxAgeMs: number;
  /** Requests kept on the node, all instances together: past it the least recently active instance loses its oldest. */
  perNode: number;
}

/**
 * 200 per instance and an hour, as the owner's inspector promises. 100,000 per node bounds the
 * memory whatever strangers do: a request costs ~0.5 KB here (strings included; measured with
 * node --expose-gc, see docs/console.md), so ~50 MB at most, the ring of 500 busy instances or the last request of
 * 100,000 quiet ones.
 */
export const REQUEST_LOG_LIMITS: RequestLogLimits = {
  perInstance: 200,
  maxAgeMs: 3_600_000,
  perNode: 100_000,
};

export interface RequestQuery {
  since: number;
  limit: number;
  status?: RequestFilter;
  keyId?: string;
}

/** Whether a request passes the owner's status filter. */
export function matchesFilter(row: RecordedRequest, filter: RequestFilter | undefined): boolean {
  switch (filter) {
    case undefined:
      return true;
    case '2xx':
    case '4xx':
    case '5xx':
      return Math.floor(row.status / 100) === Number(filter[0]);
    default:
      return row.outcome === filter;
  }
}

/**
 * The requests this node took, per instance, in memory only: written once when a request ends (an
 * array push, no I/O), read when an owner opens the inspector. The Map's order is the order in
 * which instances last recorded something (a write moves its instance to the end), so the node
 * cap and the age sweep both start from its front.
 */
export class RequestLog {
  private readonly rings = new Map<string, RecordedRequest[]>();
  private total = 0;

  constructor(
    private readonly limits: RequestLogLimits = REQUEST_LOG_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Requests held, all instances together. */
  get size(): number {
    return this.total;
  }

  get instances(): number {
    return this.rings.size;
  }

  record(instanceId: string, row: RecordedRequest): void {
    let ring = this.rings.get(instanceId);
    if (ring) this.rings.delete(instanceId);
    else ring = [];
    this.rings.set(instanceId, ring);
    ring.push(row);
    this.total++;
    const oldest = this.now() - this.limits.maxAgeMs;
    while (ring.length > this.limits.perInstance || (ring.length > 1 && ring[0].at < oldest)) {
      ring.shift();
      this.total--;
    }
    while (this.total > this.limits.perNode) this.dropOldestOfLeastActive();
  }

  /** The instance's requests that ended at or after `since` and pass the filters, newest first. */
  query(instanceId: string, query: RequestQuery): RecordedRequest[] {
    const ring = this.rings.get(instanceId);
    if (!ring) return [];
    const since = Math.max(query.since, this.now() - this.limits.maxAgeMs);
    const rows: RecordedRequest[] = [];
    for (let i = ring.length - 1; i >= 0 && rows.length < query.limit; i--) {
      const row = ring[i];
      if (row.at < since) break;
      if (query.keyId !== undefined && row.key_id !== query.keyId) continue;
      if (matchesFilter(row, query.status)) rows.push(row);
    }
    return rows;
  }

  /** Drops the rings of instances that recorded nothing for `maxAgeMs` (from the Map's front). */
  sweep(): void {
    const oldest = this.now() - this.limits.maxAgeMs;
    for (const [instanceId, ring] of this.rings) {
      if (ring[ring.length - 1].at >= oldest) return;
      this.rings.delete(instanceId);
      this.total -= ring.length;
    }
  }

  private dropOldestOfLeastActive(): void {
    const first = this.rings.entries().next();
    if (first.done) return;
    const [instanceId, ring] = first.value;
    ring.shift();
    this.total--;
    if (ring.length === 0) this.rings.delete(instanceId);
  }
}
