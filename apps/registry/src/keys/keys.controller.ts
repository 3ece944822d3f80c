import { Body, Controller, Delete, Get, Headers, HttpCode, Ip, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ok } from '../common/envelope';
import { CreateKeyDto } from './dto/create-key.dto';
import { ListKeysQuery } from './dto/list-keys.query';
import { KeysService } from './keys.service';

/** Access keys of an instance, for its owner (`Bearer <id>:<password>`), in the Second Me envelope. */
@ApiTags('keys')
@ApiBearerAuth()
@Controller('api/upload/:instanceId/keys')
export class KeysController {
  constructor(private readonly keys: KeysService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Issue an access key (data.key is shown only here); 409 over the key limits, 429 over KEY_CREATES_PER_HOUR',
  })
  async create(
    @Param('instanceId') instanceId: string,
    @Headers('authorization') authorization: string | undefined,
    @Ip() ip: string,
    @Body() dto: CreateKeyDto,
  ) {
    return ok(await this.keys.create(instanceId, { authorization, ip }, dto));
  }

  @Get()
  @ApiOperation({ summary: 'One page of the access keys, newest first (never their secrets)' })
  async list(
    @Param('instanceId') instanceId: string,
    @Headers('authorization') authorization: string | undefined,
    @Ip() ip: string,
    @Query() query: ListKeysQuery,
  ) {
    return ok(await this.keys.list(instanceId, { authorization, ip }, query.page_no, query.page_size));
  }

  @Delete(':keyId')
  @ApiOperation({ summary: 'Revoke an access key (refused on every node within 1 s)' })
  async revoke(
    @Param('instanceId') instanceId: string,
    @Param('keyId') keyId: string,
    @Headers('authorization') authorization: string | undefined,
    @Ip() ip: string,
  ) {
    return ok(await this.keys.revoke(instanceId, keyId, { authorization, ip }));
  }
}
