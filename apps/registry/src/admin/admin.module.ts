import { Module } from '@nestjs/common';
import { ChatModule } from '../chat/chat.module';
import { HostsModule } from '../hosts/hosts.module';
import { InstancesModule } from '../instances/instances.module';
import { AdminTokenGuard } from './admin-token.guard';
import { AdminController } from './admin.controller';
import { NodeStatsSampler } from './node-stats.sampler';
import { NodeStatsStore } from './node-stats.store';

/** The operators' cluster view: each node's own counters, shared through Redis in distributed mode. */
@Module({
  imports: [ChatModule, HostsModule, InstancesModule],
  controllers: [AdminController],
  providers: [AdminTokenGuard, NodeStatsSampler, NodeStatsStore],
})
export class AdminModule {}
