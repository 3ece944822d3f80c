import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ok } from '../common/envelope';
import type { InstanceRecord } from '../instances/instances.repository';
import { Owner, OwnerOnly } from '../instances/owner.guard';
import { UsageQuery } from './dto/usage.query';
import { UsageService } from './usage.service';

/** The owner's view of an instance's usage, summed per minute, hour or day. */
@ApiTags('usage')
@Controller('api/upload/:instanceId/usage')
@OwnerOnly()
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  @Get()
  @ApiOperation({
    summary: 'Requests, errors, refused calls, tokens and time to first token per period and per endpoint',
    description:
      '`items`: one entry per period with a call. `by_endpoint`: the whole window summed per endpoint ' +
      '(`chat`, `embeddings`, `completions`, `responses`, `messages`, `rerank`, `transcriptions`); endpoints without a call are left out. ' +
      '`key_id` and `endpoint` narrow both.',
  })
  async get(@Owner() owner: InstanceRecord, @Query() query: UsageQuery) {
    return ok(await this.usage.report(owner, query));
  }
}
