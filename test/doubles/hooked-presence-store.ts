import { MemoryPresenceStore } from '../../apps/registry/src/presence/memory-presence.store';
import type {
  ClaimResult,
  PresenceOwner,
  ReplicaRecord,
  ReplicaState,
} from '../../apps/registry/src/presence/presence.store';

const IDLE: ReplicaState = { capacity: 1, inFlight: 0, connectedAt: 0, draining: false };

/**
 * The embedded presence store with hooks for tests: a gate that holds claims back (a slow Redis),
 * a log of claims, records other nodes write, records lost behind the node's back (a Redis restart)
 * and the `onRestored` signal, and a count of reads.
 */
export class HookedPresenceStore extends MemoryPresenceStore {
  /** Each claim waits for this (replace it with a pending promise to hold claims back). */
  claimGate: Promise<void> = Promise.resolve();
  /** Called as each claim starts, with the instance and replica. */
  onClaim?: (instanceId: string, replica: string) => void;
  /** `replicas()` calls so far. */
  reads = 0;
  private readonly restoredHandlers: Array<() => void> = [];

  override async claim(
    instanceId: string,
    replica: string,
    state: ReplicaState,
    maxReplicas: number,
  ): Promise<ClaimResult> {
    this.onClaim?.(instanceId, replica);
    await this.claimGate;
    return super.claim(instanceId, replica, state, maxReplicas);
  }

  override async replicas(instanceId: string): Promise<ReplicaRecord[]> {
    this.reads++;
    return super.replicas(instanceId);
  }

  override onRestored(handler: () => void): void {
    this.restoredHandlers.push(handler);
  }

  /** Another node claims the replica (a newer epoch than any so far); returns that epoch. */
  claimElsewhere(
    instanceId: string,
    nodeId: string,
    replica = '',
    state: Partial<ReplicaState> = {},
  ): number {
    const epoch = this.nextEpoch();
    const replicas = this.records.get(instanceId) ?? new Map<string, ReplicaRecord>();
    replicas.set(replica, { instanceId, replica, nodeId, epoch, ...IDLE, ...state });
    this.records.set(instanceId, replicas);
    return epoch;
  }

  /** The record of a replica now, or undefined. */
  ownerOf(instanceId: string, replica = ''): PresenceOwner | undefined {
    const record = this.records.get(instanceId)?.get(replica);
    return record && { nodeId: record.nodeId, epoch: record.epoch };
  }

  /** The store loses every record (Redis restarted without persistence). */
  forgetAll(): void {
    this.records.clear();
  }

  /** The store loses one replica's record. */
  forget(instanceId: string, replica = ''): void {
    this.records.get(instanceId)?.delete(replica);
  }

  /** The store is reachable again after an outage. */
  restore(): void {
    for (const handler of this.restoredHandlers) handler();
  }
}
