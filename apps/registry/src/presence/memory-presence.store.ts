import {
  ClaimResult,
  HeldReplica,
  PresenceOwner,
  PresenceStore,
  ReplicaRecord,
  ReplicaState,
} from './presence.store';

/** Embedded mode: one node, so presence is a map in this process. */
export class MemoryPresenceStore extends PresenceStore {
  /** By instance, then by replica name. */
  protected readonly records = new Map<string, Map<string, ReplicaRecord>>();
  /** The last epoch issued: epochs increase across all replicas, with no counter kept per name. */
  private lastEpoch = 0;

  constructor(private readonly nodeId: string) {
    super();
  }

  async claim(
    instanceId: string,
    replica: string,
    state: ReplicaState,
    maxReplicas: number,
  ): Promise<ClaimResult> {
    const replicas = this.records.get(instanceId) ?? new Map<string, ReplicaRecord>();
    if (maxReplicas > 0 && !replicas.has(replica) && replicas.size >= maxReplicas) return { tooMany: true };
    const epoch = this.nextEpoch();
    const old = replicas.get(replica);
    replicas.set(replica, { instanceId, replica, nodeId: this.nodeId, epoch, ...state });
    this.records.set(instanceId, replicas);
    return { epoch, previous: old ? { nodeId: old.nodeId, epoch: old.epoch } : null };
  }

  /** Microseconds of a monotonic clock, like the Redis store's (which uses the Redis server's). */
  protected nextEpoch(): number {
    this.lastEpoch = Math.max(
      Math.floor((performance.timeOrigin + performance.now()) * 1000),
      this.lastEpoch + 1,
    );
    return this.lastEpoch;
  }

  async release(instanceId: string, replica: string, epoch: number) {
    const replicas = this.records.get(instanceId);
    const current = replicas?.get(replica);
    if (!replicas || !current || current.epoch !== epoch || current.nodeId !== this.nodeId) return false;
    replicas.delete(replica);
    if (replicas.size === 0) this.records.delete(instanceId);
    return true;
  }

  async refresh(held: ReadonlyMap<string, HeldReplica>) {
    const lost: string[] = [];
    for (const [slot, { instanceId, replica, epoch, state }] of held) {
      const record = this.records.get(instanceId)?.get(replica);
      if (record?.epoch !== epoch) lost.push(slot);
      else Object.assign(record, state);
    }
    return lost;
  }

  async owner(instanceId: string, replica: string): Promise<PresenceOwner | null> {
    const record = this.records.get(instanceId)?.get(replica);
    return record ? { nodeId: record.nodeId, epoch: record.epoch } : null;
  }

  async replicas(instanceId: string) {
    return [...(this.records.get(instanceId)?.values() ?? [])].map((r) => ({ ...r }));
  }

  /** In this process: never unreachable, so never restored. */
  onRestored(_handler: () => void): void {}

  async close() {}
}
