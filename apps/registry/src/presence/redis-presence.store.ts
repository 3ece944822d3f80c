import { replicaSlot } from '../contracts/replica-slot';
import { type RedisClient, RedisConnections } from '../redis/redis-connections';
import { PresenceKeys } from './presence-keys';
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

/** Owner record value: `<nodeId>|<epoch>`. Node ids may contain `|`: the epoch is after the last one. */
export function formatOwnerRecord(owner: PresenceOwner): string {
  return `${owner.nodeId}|${owner.epoch}`;
}

export function parseOwnerRecord(value: string | null | undefined): PresenceOwner | null {
  if (!value) return null;
  const bar = value.lastIndexOf('|');
  if (bar <= 0) return null;
  const digits = value.slice(bar + 1);
  if (!/^[1-9]\d*$/.test(digits)) return null;
  const epoch = Number(digits);
  if (!Number.isSafeInteger(epoch)) return null;
  return { nodeId: value.slice(0, bar), epoch };
}

/**
 * Clock: every absolute time (the `online` zset's scores) is taken from the Redis server's clock
 * (`TIME` inside the scripts), never from `Date.now()` of a node. The owner record's own TTL is
 * relative (`PX`), enforced by Redis. So the zset score and the key's expiry come from the same
 * clock and agree, and clock skew between nodes cannot make one node list another node's live
 * instance as offline (or a dead one as online). Redis >= 5 replicates script effects, so calling
 * TIME before writing is allowed.
 */
const nowMs = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** `<expiresAt>|<epoch>|<state JSON>` in an instance's replica hash, as Lua writes it. */
const replicaValue = `string.format('%.0f', now + ttl) .. '|' .. epoch .. '|' .. state`;

/** Microseconds of the Redis server's clock (a Lua number: exact below 2^53, i.e. until the year 2255). */
const nowUs = `local t = redis.call('TIME')
local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])`;

const scripts = {
  /**
   * KEYS: epoch, owner, replicas. ARGV: nodeId, ttlMs, replica, state JSON, maxReplicas, epochTtlMs.
   * A new replica name past `maxReplicas` live ones returns {-1, ''} and writes nothing (expired
   * names are pruned first). Otherwise: the new epoch is the Redis clock in microseconds, or one
   * more than the slot's last epoch if that is higher (several claims in one microsecond, a clock
   * stepped back), so epochs never go back while an older socket may still be open somewhere —
   * yet the slot's epoch key can expire (`epochTtlMs`, far past the TTL): a name a host used once
   * leaves nothing behind for good. Then: read the displaced owner record, SET ours with PX ttl,
   * HSET the replica's entry. One script, so two concurrent claims cannot interleave (the higher
   * epoch always ends up as owner). Returns {epoch as a string, previous record or ''}.
   */
  registryPresenceClaim: {
    numberOfKeys: 3,
    lua: `${nowMs}
${nowUs}
local ttl = tonumber(ARGV[2])
local max = tonumber(ARGV[5])
if max > 0 and redis.call('HEXISTS', KEYS[3], ARGV[3]) == 0 then
  local all = redis.call('HGETALL', KEYS[3])
  local live = 0
  for i = 1, #all, 2 do
    local expires = tonumber(string.match(all[i + 1], '^(%d+)|'))
    if expires and expires > now then live = live + 1 else redis.call('HDEL', KEYS[3], all[i]) end
  end
  if live >= max then return {-1, ''} end
end
local last = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local epoch = string.format('%.0f', math.max(nowUs, last + 1))
redis.call('SET', KEYS[1], epoch, 'PX', tonumber(ARGV[6]))
local previous = redis.call('GET', KEYS[2])
local record = ARGV[1] .. '|' .. epoch
local state = ARGV[4]
redis.call('SET', KEYS[2], record, 'PX', ttl)
redis.call('HSET', KEYS[3], ARGV[3], ${replicaValue})
redis.call('PEXPIRE', KEYS[3], ttl)
return {epoch, previous or ''}`,
  },
  /**
   * KEYS: owner, replicas. ARGV: expected record, replica.
   * Compare-and-delete: only if the record is still exactly ours. Returns 1 or 0.
   */
  registryPresenceRelease: {
    numberOfKeys: 2,
    lua: `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HDEL', KEYS[2], ARGV[2])
return 1`,
  },
  /**
   * KEYS: owner, replicas. ARGV: expected record, ttlMs, replica, epoch, state JSON.
   * Compare-and-extend: PEXPIRE + the replica's entry (with its current state) only if the record
   * is still exactly ours. Returns 1, or 0 when the record names another node/epoch or has expired.
   */
  registryPresenceRefresh: {
    numberOfKeys: 2,
    lua: `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
${nowMs}
local ttl = tonumber(ARGV[2])
local epoch = ARGV[4]
local state = ARGV[5]
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('HSET', KEYS[2], ARGV[3], ${replicaValue})
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
return 1`,
  },
  /**
   * KEYS: replicas. Drops expired entries; returns {name, '<epoch>|<state JSON>', ...} of the rest.
   */
  registryPresenceReplicas: {
    numberOfKeys: 1,
    lua: `${nowMs}
local all = redis.call('HGETALL', KEYS[1])
local reply = {}
for i = 1, #all, 2 do
  local expires, rest = string.match(all[i + 1], '^(%d+)|(.*)$')
  if expires and tonumber(expires) > now then
    reply[#reply + 1] = all[i]
    reply[#reply + 1] = rest
  else
    redis.call('HDEL', KEYS[1], all[i])
  end
end
return reply`,
  },
} as const;

interface PresenceCommands {
  registryPresenceClaim(
    epochKey: string,
    ownerKey: string,
    replicasKey: string,
    nodeId: string,
    ttlMs: number,
    replica: string,
    state: string,
    maxReplicas: number,
    epochTtlMs: number,
  ): Promise<[number | string, string]>;
  registryPresenceRelease(
    ownerKey: string,
    replicasKey: string,
    expected: string,
    replica: string,
  ): Promise<number>;
  registryPresenceReplicas(replicasKey: string): Promise<string[]>;
}

interface RefreshPipeline {
  registryPresenceRefresh(
    ownerKey: string,
    replicasKey: string,
    expected: string,
    ttlMs: number,
    replica: string,
    epoch: number,
    state: string,
  ): RefreshPipeline;
  exec(): Promise<[Error | null, unknown][] | null>;
}

/**
 * How many presence TTLs a slot's epoch key outlives its last claim. Epochs come from the Redis
 * clock, so the key only guards against several claims in one microsecond or a clock stepped back.
 */
const EPOCH_TTL_FACTOR = 20;

/** Ids refreshed per pipeline: bounds memory and lets other clients' commands interleave. */
const REFRESH_BATCH = 1000;

/** The state JSON of a replica entry (short keys: one per replica in every read). */
const encodeState = (nodeId: string, s: ReplicaState) =>
  JSON.stringify({ n: nodeId, c: s.capacity, f: s.inFlight, t: s.connectedAt, d: s.draining ? 1 : 0 });

/** `<epoch>|<state JSON>` of one replica entry; null when it cannot be read (never trusted blindly). */
export function parseReplicaEntry(instanceId: string, replica: string, value: string): ReplicaRecord | null {
  const bar = value.indexOf('|');
  const epoch = Number(value.slice(0, bar));
  if (bar <= 0 || !Number.isSafeInteger(epoch) || epoch < 1) return null;
  let state: { n?: unknown; c?: unknown; f?: unknown; t?: unknown; d?: unknown };
  try {
    state = JSON.parse(value.slice(bar + 1)) as typeof state;
  } catch {
    return null;
  }
  if (typeof state.n !== 'string' || state.n === '') return null;
  const count = (v: unknown, min: number) =>
    typeof v === 'number' && Number.isFinite(v) ? Math.max(min, v) : min;
  return {
    instanceId,
    replica,
    nodeId: state.n,
    epoch,
    capacity: count(state.c, 1),
    inFlight: count(state.f, 0),
    connectedAt: count(state.t, 0),
    draining: state.d === 1,
  };
}

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
    for (const [name, definition] of Object.entries(scripts)) this.redis.defineCommand(name, definition);
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
      encodeState(this.opts.nodeId, state),
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
          encodeState(this.opts.nodeId, held.state),
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
