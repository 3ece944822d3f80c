import { Module } from '@nestjs/common';
import { LimitsModule } from '../limits/limits.module';
import { InstanceAuthService } from './instance-auth.service';
import { InstanceEvents } from './instance-events';
import { InstancesController } from './instances.controller';
import { InstancesRepository } from './instances.repository';
import { InstancesService } from './instances.service';

@Module({
  imports: [LimitsModule],
  controllers: [InstancesController],
  providers: [InstancesRepository, InstanceAuthService, InstancesService, InstanceEvents],
  exports: [InstancesRepository, InstanceAuthService, InstancesService, InstanceEvents],
})
export class InstancesModule {}
