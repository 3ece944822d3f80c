import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { replicaSlot } from '../contracts/replica-slot';
import { ConnectedHosts } from '../hosts/connected-hosts';
import { LiveReplicaState, OnlineInstances } from '../presence/online-instances';
import type { ReplicaRecord, ReplicaState } from '../presence/presence.store';
import { ReplicaTable } from './replica-table';

/**
 * The load (and model status) of a replica as routing sees it, for detail (not as of its holder's last presence
 * refresh): this node's replicas exactly (ConnectedHosts), other nodes' as the load gossip last
 * said (ReplicaTable). Only for the connection the record names (same epoch); else presence's.
 */
@Injectable()
export class ReplicaLiveState implements LiveReplicaState, OnModuleInit {
  constructor(
    private readonly hosts: ConnectedHosts,
    private readonly table: ReplicaTable,
    private readonly online: OnlineInstances,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.online.useLiveState(this);
  }

  of(record: ReplicaRecord): Partial<ReplicaState> | undefined {
    const slot = replicaSlot(record.instanceId, record.replica);
    if (record.nodeId === this.config.nodeId) {
      const connection = this.hosts.get(slot);
      if (connection?.epoch !== record.epoch) return undefined;
      return {
        inFlight: connection.load,
        capacity: connection.capacity,
        draining: connection.draining,
        modelStatus: connection.modelStatus,
        modelDetail: connection.modelDetail,
      };
    }
    const known = this.table.find(record.instanceId, slot, record.epoch);
    if (!known) return undefined;
    const live = { inFlight: known.inFlight, capacity: known.capacity, draining: known.draining };
    // Gossip carries the status, presence the agent's words: they go together only while they agree.
    if ((known.modelStatus ?? null) === (record.modelStatus ?? null)) return live;
    return { ...live, modelStatus: known.modelStatus, modelDetail: null };
  }
}
