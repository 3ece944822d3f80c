import { Injectable } from '@nestjs/common';
import { ClusterBus } from '../cluster/cluster-bus';
import { PresenceOwner, PresenceStore } from './presence.store';

/**
 * The one derivation of `online`, used by detail, list, count, metrics and chat routing: an
 * unexpired owner record names a node, and that node still listens on its request channel. The
 * liveness check ends the "ghost online" of a killed node at once instead of at the record's TTL.
 */
@Injectable()
export class OnlineInstances {
  constructor(
    private readonly presence: PresenceStore,
    private readonly bus: ClusterBus,
  ) {}

  /** The instance's owner if it is online now, else null. Rejects when presence cannot be read. */
  async owner(instanceId: string): Promise<PresenceOwner | null> {
    const owner = await this.presence.owner(instanceId);
    if (!owner) return null;
    return (await this.liveNodes([owner.nodeId])).has(owner.nodeId) ? owner : null;
  }

  async isOnline(instanceId: string): Promise<boolean> {
    return (await this.owner(instanceId)) !== null;
  }

  /** Every online instance: one presence read, then one liveness query per distinct owner node. */
  async ids(): Promise<string[]> {
    const byNode = await this.presence.onlineByNode();
    const live = await this.liveNodes(byNode.keys());
    return [...byNode].flatMap(([nodeId, ids]) => (live.has(nodeId) ? ids : []));
  }

  private async liveNodes(nodeIds: Iterable<string>): Promise<Set<string>> {
    const checked = await Promise.all(
      [...nodeIds].map(async (nodeId) => {
        const alive = nodeId === this.bus.nodeId || (await this.bus.isNodeAlive(nodeId));
        return alive ? nodeId : null;
      }),
    );
    return new Set(checked.filter((nodeId) => nodeId !== null));
  }
}
