import type { ModelStatus } from '@app/protocol';
import { replicaSlot } from '../contracts/replica-slot';
import { modelUp, type ReplicaRecord } from '../presence/presence.store';

/** What one node knows about a replica held by another node. */
export type KnownReplica = ReplicaRecord & { slot: string };

/** A replica's change as the load gossip carries it. */
export interface ReplicaUpdate {
  instanceId: string;
  replica: string;
  slot: string;
  epoch: number;
  capacity: number;
  inFlight: number;
  /** 0 serving, 1 draining, 2 gone. */
  state: 0 | 1 | 2;
  /** Its agent's model status (null: unknown; undefined: not said, e.g. by an older node). */
  modelStatus?: ModelStatus | null;
}

interface Entry {
  /** By slot. */
  replicas: Map<string, KnownReplica>;
  /** performance.now() of the last full read from presence. */
  readAt: number;
}

/** Instances remembered at most; past it the table starts over (a read per instance refills it). */
const MAX_INSTANCES = 100_000;

/**
 * The replicas other nodes hold, for the instances this node has routed chats to lately: read
 * once from presence, then kept current by the load gossip (connects, load, draining, gone). A
 * stale entry never fails a chat — a replica that is gone answers `not_connected` and the chat
 * goes to another one — it only routes less well until the next read.
 */
export class ReplicaTable {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly selfNodeId: string) {}

  /** The known remote replicas and how old the read is; undefined if never read. */
  get(instanceId: string): { replicas: Iterable<KnownReplica>; readAt: number } | undefined {
    const entry = this.entries.get(instanceId);
    return entry && { replicas: entry.replicas.values(), readAt: entry.readAt };
  }

  /** A fresh read from presence; keeps the gossiped load of replicas it already knew (newer than the read). */
  set(instanceId: string, records: readonly ReplicaRecord[], readAt: number): void {
    const old = this.entries.get(instanceId)?.replicas;
    const replicas = new Map<string, KnownReplica>();
    for (const record of records) {
      if (record.nodeId === this.selfNodeId) continue;
      const slot = replicaSlot(instanceId, record.replica);
      const known = old?.get(slot);
      const current = known && known.epoch === record.epoch && known.nodeId === record.nodeId;
      // A model presence says is up is believed (a lost gossip must not keep a healthy replica out).
      if (current && !modelUp(known) && modelUp(record)) known.modelStatus = record.modelStatus;
      replicas.set(slot, current ? known : { ...record, slot });
    }
    if (!this.entries.has(instanceId) && this.entries.size >= MAX_INSTANCES) this.entries.clear();
    this.entries.set(instanceId, { replicas, readAt });
  }

  /**
   * Applies gossip from `nodeId` to the instances this node knows (others are ignored: they are
   * read from presence when a chat needs them). Returns the instances that gained a routable
   * replica (connected, back from draining, or its model back).
   */
  apply(nodeId: string, updates: readonly ReplicaUpdate[]): string[] {
    const gained: string[] = [];
    for (const u of updates) {
      const entry = this.entries.get(u.instanceId);
      if (!entry) continue;
      const known = entry.replicas.get(u.slot);
      if (known && known.epoch > u.epoch) continue; // a late word about an older connection
      if (u.state === 2) {
        if (known && known.epoch === u.epoch) entry.replicas.delete(u.slot);
        continue;
      }
      if (!known || known.epoch < u.epoch || known.nodeId !== nodeId) {
        entry.replicas.set(u.slot, {
          instanceId: u.instanceId,
          replica: u.replica,
          slot: u.slot,
          nodeId,
          epoch: u.epoch,
          capacity: u.capacity,
          inFlight: u.inFlight,
          connectedAt: Date.now(),
          draining: u.state === 1,
          modelStatus: u.modelStatus ?? null,
        });
        if (u.state === 0 && modelUp(u)) gained.push(u.instanceId);
        continue;
      }
      const wasRoutable = !known.draining && modelUp(known);
      known.capacity = u.capacity;
      known.inFlight = u.inFlight;
      known.draining = u.state === 1;
      if (u.modelStatus !== undefined) known.modelStatus = u.modelStatus;
      if (!wasRoutable && u.state === 0 && modelUp(known)) gained.push(u.instanceId);
    }
    return gained;
  }

  /** What this node knows of one replica connection (the same epoch), if anything. */
  find(instanceId: string, slot: string, epoch: number): KnownReplica | undefined {
    const known = this.entries.get(instanceId)?.replicas.get(slot);
    return known?.epoch === epoch ? known : undefined;
  }

  /** A chat proved this connection gone (`not_connected`, disconnected): stop routing to it. */
  forget(instanceId: string, slot: string, epoch: number): void {
    const entry = this.entries.get(instanceId);
    if (entry?.replicas.get(slot)?.epoch === epoch) entry.replicas.delete(slot);
  }

  /** The node is gone: none of its replicas is routable. */
  dropNode(nodeId: string): void {
    for (const entry of this.entries.values())
      for (const [slot, replica] of entry.replicas)
        if (replica.nodeId === nodeId) entry.replicas.delete(slot);
  }

  /**
   * The gossip may have been missed (this node's subscription dropped and is back): every entry is
   * read from presence again when a chat next needs it; what it knows meanwhile still routes.
   */
  markAllStale(): void {
    for (const entry of this.entries.values()) entry.readAt = Number.NEGATIVE_INFINITY;
  }

  /** Every node some known replica is on (their liveness is checked). */
  nodes(): Set<string> {
    const nodes = new Set<string>();
    for (const entry of this.entries.values())
      for (const replica of entry.replicas.values()) nodes.add(replica.nodeId);
    return nodes;
  }
}
