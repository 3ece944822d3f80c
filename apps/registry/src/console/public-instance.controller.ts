import { Controller, Get, Param } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ok } from '../common/envelope';
import { InstancesService } from '../instances/instances.service';

/** One instance's public card (what the directory lists, without paging through it): the console's instance page. */
@ApiTags('instances')
@Controller('api/console/instances')
export class PublicInstanceController {
  constructor(private readonly instances: InstancesService) {}

  @Get(':instanceId')
  @ApiOperation({ summary: 'Public card of one instance: name, description, status, models (no secrets)' })
  async card(@Param('instanceId') instanceId: string) {
    return ok(await this.instances.publicCard(instanceId));
  }
}
