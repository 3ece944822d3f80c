import { Controller, Get, Headers, Ip, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ok } from '../common/envelope';
import { ApiError, invalidField } from '../common/http-errors';
import { InstanceAuthService } from '../instances/instance-auth.service';
import { UsageQuery } from './dto/usage.query';
import { Granularity, UsageRepository } from './usage.repository';

const PERIOD_MS: Record<Granularity, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
/** Periods one answer may span: a year of days, ~2 months of hours, a week of minutes. */
const MAX_PERIODS = 10_080;

/** The owner's view of an instance's usage, summed per minute, hour or day. */
@ApiTags('usage')
@ApiBearerAuth()
@Controller('api/upload/:instanceId/usage')
export class UsageController {
  constructor(
    private readonly usage: UsageRepository,
    private readonly auth: InstanceAuthService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Requests, errors, refused calls, tokens and time to first token per period' })
  async get(
    @Param('instanceId') instanceId: string,
    @Headers('authorization') authorization: string | undefined,
    @Ip() ip: string,
    @Query() query: UsageQuery,
  ) {
    await this.auth.authenticate({ authorization, ip }, instanceId);
    const granularity = query.granularity ?? 'hour';
    const to = query.to ? new Date(query.to) : new Date();
    const from = query.from ? new Date(query.from) : new Date(to.getTime() - PERIOD_MS.day);
    if (from.getTime() >= to.getTime()) throw invalidField('from', 'from must be before to');
    if ((to.getTime() - from.getTime()) / PERIOD_MS[granularity] > MAX_PERIODS)
      throw invalidField(
        'from',
        `from..to spans more than ${MAX_PERIODS} ${granularity}s; narrow it or ask for a coarser granularity`,
      );
    if (query.key_id !== undefined && !(await this.usage.keyExists(instanceId, query.key_id)))
      throw new ApiError(404, `key '${query.key_id}' not found`, { code: 'key_not_found' });
    const items = await this.usage.periods(instanceId, from, to, granularity, query.key_id);
    return ok({ from: from.toISOString(), to: to.toISOString(), granularity, items });
  }
}
