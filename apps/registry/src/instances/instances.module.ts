import { Module } from '@nestjs/common';
import { LimitsModule } from '../limits/limits.module';
import { DirectoryReads } from './directory-reads';
import { InstanceAuthService } from './instance-auth.service';
import { InstanceHoldersRepository } from './instance-holders.repository';
import { InstanceEvents } from './instance-events';
import { InstancesController } from './instances.controller';
import { InstancesRepository } from './instances.repository';
import { InstancesService } from './instances.service';

@Module({
  imports: [LimitsModule],
  controllers: [InstancesController],
  providers: [
    InstancesRepository,
    InstanceHoldersRepository,
    InstanceAuthService,
    InstancesService,
    InstanceEvents,
    DirectoryReads,
  ],
  exports: [
    InstancesRepository,
    InstanceHoldersRepository,
    InstanceAuthService,
    InstancesService,
    InstanceEvents,
  ],
})
export class InstancesModule {}
