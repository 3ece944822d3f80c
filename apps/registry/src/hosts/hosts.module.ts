import { Module } from '@nestjs/common';
import { InstancesModule } from '../instances/instances.module';
import { LimitsModule } from '../limits/limits.module';
import { ConnectedHosts } from './connected-hosts';
import { HeartbeatRecorder } from './heartbeat-recorder';
import { HostSocketServer } from './host-socket.server';
import { InstanceHolding } from './instance-holding';

@Module({
  imports: [InstancesModule, LimitsModule],
  providers: [ConnectedHosts, HeartbeatRecorder, HostSocketServer, InstanceHolding],
  exports: [ConnectedHosts, HostSocketServer],
})
export class HostsModule {}
