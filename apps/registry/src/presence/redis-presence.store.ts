import { replicaSlot } from '../contracts/replica-slot';
import { type RedisClient, RedisConnections } from '../redis/redis-connections';
import { PresenceKeys } from './presence-keys';
import {
  encodeReplicaState,
  formatOwnerRecord,
  parseOwnerRecord,
  parseReplicaEntry,
} from './presence-records';
import { PRESENCE_SCRIPTS, type PresenceCommands, type RefreshPipeline } from './presence-scripts';
import {
  ClaimResult,
  HeldReplica,
  PresenceOwner,
  PresenceStore,
  ReplicaRecord,
  ReplicaState,
} from './presence.store';

export interface RedisPresenceOptions {
  /** Key prefix shared by all nodes of one registry. */
  prefix: string;
  nodeId: string;
  /** Lifetime of an owner record that is not refreshed. */
  ttlMs: number;
  /** Buckets of the key layout (`PresenceKeys`): 1 for one Redis, `CLUSTER_PRESENCE_BUCKETS` in a cluster. */
  buckets?: number;
}

/**
 * How many presence TTLs a slot's epoch key outlives its last claim. Epochs come from the Redis
 * clock, so the key only guards against several claims in one microsecond or a clock stepped back.
 */
const EPOCH_TTL_FACTOR = 20;

/** Ids refreshed per pipeline: bounds memory and lets other clients' commands interleave. */
const REFRESH_BATCH = 1000;

/**
 * Distributed presence: who holds each replica's socket, shared by all nodes. Keys, for prefix P
 * (a slot is the instance id for the unnamed replica, `<id>/<replica>` for a named one):
 * - `P:epoch:<slot>`  the slot's last epoch (Redis clock in µs, or last + 1), kept for EPOCH_TTL_FACTOR
 *   presence TTLs after the last claim: epochs never go back while an older socket may still be open,
 *   and a name used once leaves no key for good.
 * - `P:owner:<slot>`  `<nodeId>|<epoch>` with PX ttl, refreshed by the owning node.
 * - `P:reps:<id>`     hash, replica name → `<expiresAt>|<epoch>|<state JSON>` (node, capacity, chats
 *   in flight, connected at, draining), written by the same scripts: one read lists an instance's
 *   replicas. Entries carry their own expiry (Redis 7.0 has no per-field TTL); readers skip and
 *   prune expired ones, and the key itself expires with its last refreshed entry.
 *
 * There is no index of every online instance here: reads of "what is online" across instances
 * (list, count, metrics) use the database's `instance_holders` and the live nodes instead, so no
 * read scans presence (at 100,000 online the old index cost ~100 ms of Redis CPU per read).
 *
 * In a Redis Cluster the same keys are spread over hash-tagged buckets (`PresenceKeys`); all keys
 * of one instance's replicas share its bucket.
 *
 * `close()` does nothing: the connection belongs to whoever created it (RedisConnections.close()).
 */
export class RedisPresenceStore extends PresenceStore {
  private readonly redis: RedisClient;
  private readonly commands: PresenceCommands;
  private readonly keys: PresenceKeys;
  private readonly restoredHandlers: (() => void)[] = [];
  /** Set when the connection drops; its next `ready` means Redis is back (maybe restarted empty). */
  private lost = false;

  constructor(
    redis: RedisClient | RedisConnections,
    private readonly opts: RedisPresenceOptions,
  ) {
    super();
    if (!Number.isInteger(opts.ttlMs) || opts.ttlMs <= 0) throw new Error('ttlMs must be a positive integer');
    this.redis = redis instanceof RedisConnections ? redis.command : redis;
    for (const [name, definition] of Object.entries(PRESENCE_SCRIPTS))
      this.redis.defineCommand(name, definition);
    this.commands = this.redis as unknown as PresenceCommands;
    this.keys = new PresenceKeys(opts.prefix, opts.buckets);
    this.redis.on('close', () => (this.lost = true));
    this.redis.on('ready', () => {
      if (!this.lost) return;
      this.lost = false;
      for (const handler of this.restoredHandlers) handler();
    });
  }

  onRestored(handler: () => void): void {
    this.restoredHandlers.push(handler);
  }

  private record(epoch: number) {
    return formatOwnerRecord({ nodeId: this.opts.nodeId, epoch });
  }

  async claim(
    instanceId: string,
    replica: string,
    state: ReplicaState,
    maxReplicas: number,
  ): Promise<ClaimResult> {
    const slot = replicaSlot(instanceId, replica);
    const [epoch, previous] = await this.commands.registryPresenceClaim(
      this.keys.epoch(slot),
      this.keys.owner(slot),
      this.keys.replicas(instanceId),
      this.opts.nodeId,
      this.opts.ttlMs,
      replica,
      encodeReplicaState(this.opts.nodeId, state),
      maxReplicas,
      this.opts.ttlMs * EPOCH_TTL_FACTOR,
    );
    if (Number(epoch) < 0) return { tooMany: true };
    return { epoch: Number(epoch), previous: parseOwnerRecord(previous) };
  }

  async release(instanceId: string, replica: string, epoch: number): Promise<boolean> {
    const deleted = await this.commands.registryPresenceRelease(
      this.keys.owner(replicaSlot(instanceId, replica)),
      this.keys.replicas(instanceId),
      this.record(epoch),
      replica,
    );
    return deleted === 1;
  }

  /**
   * Extends every record this node still holds (and writes each replica's current state). Returns
   * the slots whose record no longer names this node and epoch (superseded by a newer connection,
   * or expired). Rejects if Redis fails: a failure to refresh is not a loss of ownership, the
   * caller retries on its next beat. One pipeline per bucket and batch: a cluster pipeline must
   * stay within one slot.
   */
  async refresh(held: ReadonlyMap<string, HeldReplica>): Promise<string[]> {
    const byBucket = new Map<number, [string, HeldReplica][]>();
    for (const entry of held) {
      const bucket = this.keys.bucketOf(entry[0]);
      const entries = byBucket.get(bucket) ?? [];
      entries.push(entry);
      byBucket.set(bucket, entries);
    }
    const lost = await Promise.all([...byBucket.values()].map((entries) => this.refreshBucket(entries)));
    return lost.flat();
  }

  private async refreshBucket(entries: [string, HeldReplica][]): Promise<string[]> {
    const lost: string[] = [];
    for (let start = 0; start < entries.length; start += REFRESH_BATCH) {
      const batch = entries.slice(start, start + REFRESH_BATCH);
      const pipeline = this.redis.pipeline() as unknown as RefreshPipeline;
      for (const [slot, held] of batch) {
        pipeline.registryPresenceRefresh(
          this.keys.owner(slot),
          this.keys.replicas(held.instanceId),
          this.record(held.epoch),
          this.opts.ttlMs,
          held.replica,
          held.epoch,
          encodeReplicaState(this.opts.nodeId, held.state),
        );
      }
      const results = await pipeline.exec();
      if (!results) throw new Error('presence refresh: pipeline was aborted');
      results.forEach(([err, extended], i) => {
        if (err) throw err;
        if (Number(extended) !== 1) lost.push(batch[i][0]);
      });
    }
    return lost;
  }

  async owner(instanceId: string, replica: string): Promise<PresenceOwner | null> {
    return parseOwnerRecord(await this.redis.get(this.keys.owner(replicaSlot(instanceId, replica))));
  }

  async replicas(instanceId: string): Promise<ReplicaRecord[]> {
    const reply = await this.commands.registryPresenceReplicas(this.keys.replicas(instanceId));
    const records: ReplicaRecord[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const record = parseReplicaEntry(instanceId, reply[i], reply[i + 1]);
      if (record) records.push(record);
    }
    return records;
  }

  async close(): Promise<void> {}
}
