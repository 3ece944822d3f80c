import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Ip,
  Post,
  Put,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ok } from '../common/envelope';
import type { DirectoryRead } from './directory-reads';
import { requestBaseUrl } from '../common/request-base-url';
import { CountInstancesQuery, ListInstancesQuery } from './dto/list-instances.query';
import { RegisterInstanceDto } from './dto/register-instance.dto';
import { UpdateInstanceDto } from './dto/update-instance.dto';
import type { InstanceRecord } from './instances.repository';
import { InstancesService } from './instances.service';
import { Owner, OwnerOnly } from './owner.guard';

/** The Second Me `upload` API. Every answer is the `{code, message, data}` envelope. */
@ApiTags('instances')
@Controller('api/upload')
export class InstancesController {
  constructor(private readonly instances: InstancesService) {}

  @Post('register')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Register an instance (or re-register with credentials); the password is shown once',
  })
  async register(
    @Body() dto: RegisterInstanceDto,
    @Headers('authorization') authorization: string | undefined,
    @Ip() ip: string,
    @Req() request: FastifyRequest,
  ) {
    return ok(await this.instances.register(dto, { authorization, ip }, requestBaseUrl(request)));
  }

  @Get('list')
  @ApiOperation({
    summary:
      'List instances (public; no secrets, masked emails); ETag / If-None-Match answers 304 when unchanged',
  })
  async list(
    @Query() query: ListInstancesQuery,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const read = await this.instances.list(query.page_no, query.page_size, query.status ?? []);
    return conditional(read, request, reply);
  }

  @Get('count')
  @ApiOperation({ summary: 'Count instances, optionally by status (ETag / If-None-Match as for list)' })
  async count(
    @Query() query: CountInstancesQuery,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return conditional(await this.instances.count(query.status ?? []), request, reply);
  }

  @Get(':instanceId')
  @OwnerOnly()
  @ApiOperation({ summary: 'Instance detail, including connection state' })
  async detail(@Owner() owner: InstanceRecord) {
    return ok(await this.instances.detail(owner));
  }

  @Put(':instanceId')
  @OwnerOnly()
  @ApiOperation({ summary: 'Update upload_name, capabilities, email, description, visibility or policy' })
  async update(@Owner() owner: InstanceRecord, @Body() dto: UpdateInstanceDto) {
    return ok(await this.instances.update(owner, dto));
  }

  @Delete(':instanceId')
  @OwnerOnly()
  @ApiOperation({ summary: 'Unregister: the host is disconnected and the chat URL answers 404 from then on' })
  async remove(@Owner() owner: InstanceRecord) {
    return ok(await this.instances.remove(owner));
  }
}

/** The envelope of a directory read, or 304 with no body when the caller already has it. */
function conditional<T>(read: DirectoryRead<T>, request: FastifyRequest, reply: FastifyReply) {
  reply.header('etag', read.etag).header('cache-control', 'no-cache');
  const known = request.headers['if-none-match'];
  if (known !== undefined && known.split(/\s*,\s*/).includes(read.etag)) {
    reply.code(304);
    return undefined;
  }
  return ok(read.value);
}
