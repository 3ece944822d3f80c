import { Body, Controller, Delete, Get, Headers, HttpCode, Ip, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ok } from '../common/envelope';
import { UpsertRoleDto } from './dto/upsert-role.dto';
import { RolesService } from './roles.service';

@ApiTags('roles')
@ApiBearerAuth()
@Controller('api/roles')
export class RolesController {
  constructor(private readonly roles: RolesService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'Create or update a role of an instance' })
  async upsert(
    @Body() dto: UpsertRoleDto,
    @Headers('authorization') authorization: string | undefined,
    @Ip() ip: string,
  ) {
    return ok(await this.roles.upsert(dto, { authorization, ip }));
  }

  @Get(':instanceId')
  @ApiOperation({ summary: 'List the roles of an instance' })
  async list(
    @Param('instanceId') instanceId: string,
    @Headers('authorization') authorization: string | undefined,
    @Ip() ip: string,
  ) {
    return ok(await this.roles.list(instanceId, { authorization, ip }));
  }

  @Delete(':instanceId/:roleId')
  @ApiOperation({ summary: 'Delete a role' })
  async remove(
    @Param('instanceId') instanceId: string,
    @Param('roleId') roleId: string,
    @Headers('authorization') authorization: string | undefined,
    @Ip() ip: string,
  ) {
    return ok(await this.roles.remove(instanceId, roleId, { authorization, ip }));
  }
}
