import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ok } from '../common/envelope';
import type { InstanceRecord } from '../instances/instances.repository';
import { Owner, OwnerOnly } from '../instances/owner.guard';
import { UpsertRoleDto } from './dto/upsert-role.dto';
import { RolesService } from './roles.service';

@ApiTags('roles')
@Controller('api/roles')
export class RolesController {
  constructor(private readonly roles: RolesService) {}

  @Post()
  @HttpCode(200)
  @OwnerOnly('body')
  @ApiOperation({ summary: 'Create or update a role of an instance' })
  async upsert(@Owner() owner: InstanceRecord, @Body() dto: UpsertRoleDto) {
    return ok(await this.roles.upsert(owner, dto));
  }

  @Get(':instanceId')
  @OwnerOnly()
  @ApiOperation({ summary: 'List the roles of an instance' })
  async list(@Owner() owner: InstanceRecord) {
    return ok(await this.roles.list(owner));
  }

  @Delete(':instanceId/:roleId')
  @OwnerOnly()
  @ApiOperation({ summary: 'Delete a role' })
  async remove(@Owner() owner: InstanceRecord, @Param('roleId') roleId: string) {
    return ok(await this.roles.remove(owner, roleId));
  }
}
