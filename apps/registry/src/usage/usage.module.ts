import { Module } from '@nestjs/common';
import { InstancesModule } from '../instances/instances.module';
import { UsageController } from './usage.controller';
import { UsageRecorder } from './usage-recorder';
import { UsageRepository } from './usage.repository';

@Module({
  imports: [InstancesModule],
  controllers: [UsageController],
  providers: [UsageRepository, UsageRecorder],
  exports: [UsageRecorder],
})
export class UsageModule {}
