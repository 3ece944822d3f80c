import { Global, Module } from '@nestjs/common';
import { ChatModule } from '../chat/chat.module';
import { HostsModule } from '../hosts/hosts.module';
import { InstancesModule } from '../instances/instances.module';
import { Metrics } from './metrics';
import { MetricsCollectors } from './metrics-collectors';
import { MetricsController } from './metrics.controller';

/** Global: chat records into Metrics, and the collectors read chat and hosts (imports would cycle). */
@Global()
@Module({
  imports: [ChatModule, HostsModule, InstancesModule],
  controllers: [MetricsController],
  providers: [Metrics, MetricsCollectors],
  exports: [Metrics],
})
export class MetricsModule {}
