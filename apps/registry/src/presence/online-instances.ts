import { Injectable } from '@nestjs/common';
import { ClusterBus } from '../cluster/cluster-bus';
import { PresenceStore, ReplicaRecord, ReplicaState } from './presence.store';

/**
 * The one derivation of `online`, used by detail, list, count, metrics and chat routing: an
 * instance is online while at least one of its replicas has an unexpired record naming a node that
 * still listens on its request channel. The liveness check ends the "ghost online" of a killed
 * node at once instead of at the record's TTL.
 */
@Injectable()
export class OnlineInstances {
  private live?: (record: ReplicaRecord) => Partial<ReplicaState> | undefined;

  constructor(
    private readonly presence: PresenceStore,
    private readonly bus: ClusterBus,
  ) {}

  /**
   * Where fresher state than presence's (written at each refresh) is known — this node's own
   * replicas, gossip about others — `source` supplies it for `replicas()`.
   */
  useLiveState(source: (record: ReplicaRecord) => Partial<ReplicaState> | undefined): void {
    this.live = source;
  }

  /** The instance's connected replicas whose nodes are alive. Rejects when presence cannot be read. */
  async replicas(instanceId: string): Promise<ReplicaRecord[]> {
    const records = await this.presence.replicas(instanceId);
    if (records.length === 0) return records;
    const live = await this.liveNodes(new Set(records.map((r) => r.nodeId)));
    return records.filter((r) => live.has(r.nodeId)).map((r) => ({ ...r, ...this.live?.(r) }));
  }

  async isOnline(instanceId: string): Promise<boolean> {
    return (await this.replicas(instanceId)).length > 0;
  }

  /** Every online instance: one presence read, then one liveness query per distinct node. */
  async ids(): Promise<string[]> {
    const byNode = await this.presence.onlineByNode();
    const live = await this.liveNodes(byNode.keys());
    const ids = new Set<string>();
    for (const [nodeId, instanceIds] of byNode)
      if (live.has(nodeId)) for (const id of instanceIds) ids.add(id);
    return [...ids];
  }

  /** Which of `nodeIds` still listen on their request channel (this node always does). */
  async liveNodes(nodeIds: Iterable<string>): Promise<Set<string>> {
    const checked = await Promise.all(
      [...nodeIds].map(async (nodeId) => {
        const alive = nodeId === this.bus.nodeId || (await this.bus.isNodeAlive(nodeId));
        return alive ? nodeId : null;
      }),
    );
    return new Set(checked.filter((nodeId) => nodeId !== null));
  }
}
