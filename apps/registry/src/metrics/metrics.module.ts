import { Module } from '@nestjs/common';
import { ChatModule } from '../chat/chat.module';
import { HostsModule } from '../hosts/hosts.module';
import { MetricsCollectors } from './metrics-collectors';
import { MetricsController } from './metrics.controller';

@Module({
  imports: [ChatModule, HostsModule],
  controllers: [MetricsController],
  providers: [MetricsCollectors],
})
export class MetricsModule {}
