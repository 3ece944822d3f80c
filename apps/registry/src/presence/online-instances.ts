import { Injectable } from '@nestjs/common';
import { LiveNodes } from '../cluster/live-nodes';
import { PresenceStore, ReplicaRecord, ReplicaState } from './presence.store';

/** Fresher state of a replica than presence's (written at each refresh), where a node knows it. */
export interface LiveReplicaState {
  of(record: ReplicaRecord): Partial<ReplicaState> | undefined;
}

/**
 * The one rule of `online`, for detail, routing, list, count and metrics alike: an instance is
 * online while at least one of its replicas is held by a node that is alive (`LiveNodes`: it still
 * listens on its request channel). Detail and routing read the instance's replicas from presence;
 * list, count and metrics read which live nodes hold it from the database (`instance_holders`,
 * written by each node before its presence claim), so no read costs work per online instance.
 * The liveness check ends the "ghost online" of a killed node within a second instead of at the
 * record's TTL, in every view at once.
 */
@Injectable()
export class OnlineInstances {
  private live?: LiveReplicaState;

  constructor(
    private readonly presence: PresenceStore,
    private readonly nodes: LiveNodes,
  ) {}

  /** Where fresher state than presence's is known (this node's replicas, gossip about others). */
  useLiveState(source: LiveReplicaState): void {
    this.live = source;
  }

  /** The instance's connected replicas whose nodes are alive. Rejects when presence cannot be read. */
  async replicas(instanceId: string): Promise<ReplicaRecord[]> {
    const records = await this.presence.replicas(instanceId);
    if (records.length === 0) return records;
    const alive = new Map<string, boolean>();
    for (const { nodeId } of records)
      if (!alive.has(nodeId)) alive.set(nodeId, await this.nodes.isAlive(nodeId));
    return records.filter((r) => alive.get(r.nodeId)).map((r) => ({ ...r, ...this.live?.of(r) }));
  }

  async isOnline(instanceId: string): Promise<boolean> {
    return (await this.replicas(instanceId)).length > 0;
  }

  /** The nodes whose holdings count as online now (for the database's view of what is online). */
  liveNodeIds(): string[] {
    return [...this.nodes.current];
  }
}
