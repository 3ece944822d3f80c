import { Controller, Get, Param } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ok } from '../common/envelope';
import { deriveStatus } from '../instances/instance-status';
import { InstancesService, publicModels } from '../instances/instances.service';

/** One instance's public card (what the directory lists, without paging through it): the console's instance page. */
@ApiTags('instances')
@Controller('api/console/instances')
export class PublicInstanceController {
  constructor(private readonly instances: InstancesService) {}

  @Get(':instanceId')
  @ApiOperation({ summary: 'Public card of one instance: name, description, status, models (no secrets)' })
  async card(@Param('instanceId') instanceId: string) {
    const record = await this.instances.requireActive(instanceId);
    return ok({
      instance_id: record.id,
      upload_name: record.uploadName,
      description: record.description,
      status: deriveStatus(record, await this.instances.isOnline(record.id)),
      models: publicModels(record),
      registration_time: record.registeredAt.toISOString(),
    });
  }
}
