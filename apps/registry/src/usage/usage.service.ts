import { Injectable } from '@nestjs/common';
import { ApiError, invalidField } from '../common/http-errors';
import type { InstanceRecord } from '../instances/instances.repository';
import { UsageQuery } from './dto/usage.query';
import type { Granularity, UsageReport } from '@app/contracts';
import { UsageRepository } from './usage.repository';

const PERIOD_MS: Record<Granularity, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
/** Periods one answer may span: a year of days, ~2 months of hours, a week of minutes. */
const MAX_PERIODS = 10_080;

/** The owner's view of an instance's usage, summed per minute, hour or day. */
@Injectable()
export class UsageService {
  constructor(private readonly usage: UsageRepository) {}

  /**
   * The periods of `from..to` (the last day by default) and the window's totals per endpoint; of one
   * key when `key_id` is given, of one endpoint when `endpoint` is.
   */
  async report(owner: InstanceRecord, query: UsageQuery): Promise<UsageReport> {
    const granularity = query.granularity ?? 'hour';
    const to = query.to ? new Date(query.to) : new Date();
    const from = query.from ? new Date(query.from) : new Date(to.getTime() - PERIOD_MS.day);
    if (from.getTime() >= to.getTime()) throw invalidField('from', 'from must be before to');
    if ((to.getTime() - from.getTime()) / PERIOD_MS[granularity] > MAX_PERIODS)
      throw invalidField(
        'from',
        `from..to spans more than ${MAX_PERIODS} ${granularity}s; narrow it or ask for a coarser granularity`,
      );
    if (query.key_id !== undefined && !(await this.usage.keyExists(owner.id, query.key_id)))
      throw new ApiError(404, `key '${query.key_id}' not found`, { code: 'key_not_found' });
    const window = { from, to, keyId: query.key_id, endpoint: query.endpoint };
    const [items, byEndpoint] = await Promise.all([
      this.usage.periods(owner.id, window, granularity),
      this.usage.byEndpoint(owner.id, window),
    ]);
    return { from: from.toISOString(), to: to.toISOString(), granularity, items, by_endpoint: byEndpoint };
  }
}
