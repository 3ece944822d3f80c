import { Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { HostsModule } from '../hosts/hosts.module';
import { ReplicaGossip } from './replica-gossip';
import { ReplicaLiveState } from './replica-live-state';
import { ReplicaTable } from './replica-table';

/**
 * What each node knows about the replicas other nodes hold, the gossip that keeps it current, and
 * the live load of replicas that detail shows.
 */
@Module({
  imports: [HostsModule],
  providers: [
    { provide: ReplicaTable, inject: [APP_CONFIG], useFactory: (c: AppConfig) => new ReplicaTable(c.nodeId) },
    ReplicaGossip,
    ReplicaLiveState,
  ],
  exports: [ReplicaTable, ReplicaGossip],
})
export class ReplicasModule {}
