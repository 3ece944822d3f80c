// The Lua scripts of `RedisPresenceStore`, with the KEYS and ARGV each takes, and their types.

/**
 * Clock: every absolute time (a replica entry's expiry, an epoch) is taken from the Redis server's
 * clock (`TIME` inside the scripts), never from `Date.now()` of a node. The owner record's own TTL
 * is relative (`PX`), enforced by Redis. So an entry's expiry and the key's agree, and clock skew
 * between nodes cannot make one node see another node's live replica as expired (or a dead one as
 * live). Redis >= 5 replicates script effects, so calling TIME before writing is allowed.
 */
const nowMs = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** `<expiresAt>|<epoch>|<state JSON>` in an instance's replica hash, as Lua writes it. */
const replicaValue = `string.format('%.0f', now + ttl) .. '|' .. epoch .. '|' .. state`;

/** Microseconds of the Redis server's clock (a Lua number: exact below 2^53, i.e. until the year 2255). */
const nowUs = `local t = redis.call('TIME')
local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])`;

/** Defined on the command connection under these names (`defineCommand`). */
export const PRESENCE_SCRIPTS = {
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

/** The scripts as ioredis exposes them once defined. */
export interface PresenceCommands {
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

export interface RefreshPipeline {
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
