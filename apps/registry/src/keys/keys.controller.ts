import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ok } from '../common/envelope';
import type { InstanceRecord } from '../instances/instances.repository';
import { Owner, OwnerOnly } from '../instances/owner.guard';
import { CreateKeyDto } from './dto/create-key.dto';
import { ListKeysQuery } from './dto/list-keys.query';
import { KeysService } from './keys.service';

/** Access keys of an instance, for its owner (`Bearer <id>:<password>`), in the Second Me envelope. */
@ApiTags('keys')
@Controller('api/upload/:instanceId/keys')
@OwnerOnly()
export class KeysController {
  constructor(private readonly keys: KeysService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Issue an access key (data.key is shown only here); 409 over the key limits, 429 over KEY_CREATES_PER_HOUR',
  })
  async create(@Owner() owner: InstanceRecord, @Body() dto: CreateKeyDto) {
    return ok(await this.keys.create(owner, dto));
  }

  @Get()
  @ApiOperation({ summary: 'One page of the access keys, newest first (never their secrets)' })
  async list(@Owner() owner: InstanceRecord, @Query() query: ListKeysQuery) {
    return ok(await this.keys.list(owner, query.page_no, query.page_size));
  }

  @Delete(':keyId')
  @ApiOperation({ summary: 'Revoke an access key (refused on every node within 1 s)' })
  async revoke(@Owner() owner: InstanceRecord, @Param('keyId') keyId: string) {
    return ok(await this.keys.revoke(owner, keyId));
  }
}
