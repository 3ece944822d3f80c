import { Module } from '@nestjs/common';
import { InstancesModule } from '../instances/instances.module';
import { UsageController } from './usage.controller';
import { UsageRecorder } from './usage-recorder';
import { UsageRetention } from './usage-retention';
import { UsageRepository } from './usage.repository';
import { UsageService } from './usage.service';

@Module({
  imports: [InstancesModule],
  controllers: [UsageController],
  providers: [UsageRepository, UsageService, UsageRecorder, UsageRetention],
  exports: [UsageRecorder],
})
export class UsageModule {}
