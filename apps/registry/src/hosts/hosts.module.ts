import { Module } from '@nestjs/common';
import { InstancesModule } from '../instances/instances.module';
import { LimitsModule } from '../limits/limits.module';
import { ConnectedHosts } from './connected-hosts';
import { HeartbeatRecorder } from './heartbeat-recorder';
import { HostAcceptance } from './host-acceptance';
import { HostEvictions } from './host-evictions';
import { HostPresence } from './host-presence';
import { HostSocketServer } from './host-socket.server';
import { InstanceHolding } from './instance-holding';

@Module({
  imports: [InstancesModule, LimitsModule],
  providers: [
    ConnectedHosts,
    HostPresence,
    HostEvictions,
    HostAcceptance,
    HeartbeatRecorder,
    HostSocketServer,
    InstanceHolding,
  ],
  exports: [ConnectedHosts, HostSocketServer],
})
export class HostsModule {}
