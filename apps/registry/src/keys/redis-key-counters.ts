import type { RedisClient } from '../redis/redis-connections';
import { KeyCounters, MINUTE_MS, UtcDay } from './key-counters';

/** One round trip each: count and arm the window's expiry atomically, answer the wait when over. */
const RPM = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if n > tonumber(ARGV[2]) then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 1 then return 1000 end
  return ttl
end
return 0`;

/** Slots are members scored by their expiry, so a node that died without releasing frees them later. */
const ACQUIRE = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

/**
 * A node's lease of a key's tokens. KEYS[1]: the key's token counter of the day; ARGV[1]: tokens
 * wanted; ARGV[2]: the day's limit. Grants min(wanted, limit - used) and counts them as used at
 * once, so what all nodes hold and relay together never passes the limit. -1: no counter yet (seed it).
 */
const TAKE_TOKENS = `
local used = redis.call('GET', KEYS[1])
if not used then return -1 end
local granted = math.min(tonumber(ARGV[1]), tonumber(ARGV[2]) - tonumber(used))
if granted <= 0 then return 0 end
redis.call('INCRBY', KEYS[1], granted)
return granted`;

/**
 * Charges (ARGV[1] > 0) or gives back (< 0) tokens. Only a seeded counter changes: an unseeded one
 * will be seeded from the recorded usage, which holds these tokens. Never below 0 (a counter seeded
 * again after a Redis restart does not hold the leases given back to it).
 */
const ADD_TOKENS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if n < 0 then
  redis.call('SET', KEYS[1], 0, 'KEEPTTL')
  return 0
end
return n`;

type Scripted = RedisClient & {
  mregKeyRpm(key: string, windowMs: number, limit: number): Promise<number>;
  mregKeyAcquire(key: string, now: number, limit: number, ttlMs: number, slot: string): Promise<number>;
  mregKeyTakeTokens(key: string, want: number, limit: number): Promise<number>;
  mregKeyAddTokens(key: string, tokens: number): Promise<number>;
};

/** Distributed mode: the counts of every node in Redis, so a key limited to N gets N, not N per node. */
export class RedisKeyCounters extends KeyCounters {
  private readonly redis: Scripted;

  constructor(
    redis: RedisClient,
    private readonly prefix: string,
  ) {
    super();
    redis.defineCommand('mregKeyRpm', { numberOfKeys: 1, lua: RPM });
    redis.defineCommand('mregKeyAcquire', { numberOfKeys: 1, lua: ACQUIRE });
    redis.defineCommand('mregKeyTakeTokens', { numberOfKeys: 1, lua: TAKE_TOKENS });
    redis.defineCommand('mregKeyAddTokens', { numberOfKeys: 1, lua: ADD_TOKENS });
    this.redis = redis as Scripted;
  }

  hitRpm(keyId: string, limit: number): Promise<number> {
    return this.redis.mregKeyRpm(`${this.prefix}:key:${keyId}:rpm`, MINUTE_MS, limit);
  }

  async acquire(keyId: string, slotId: string, limit: number, ttlMs: number): Promise<boolean> {
    const ok = await this.redis.mregKeyAcquire(this.slotsKey(keyId), Date.now(), limit, ttlMs, slotId);
    return ok === 1;
  }

  async release(keyId: string, slotId: string): Promise<void> {
    await this.redis.zrem(this.slotsKey(keyId), slotId);
  }

  async takeTokens(
    keyId: string,
    today: UtcDay,
    want: number,
    limit: number,
    seed: () => Promise<number>,
  ): Promise<number> {
    const key = this.tokensKey(keyId, today.day);
    const granted = await this.redis.mregKeyTakeTokens(key, want, limit);
    if (granted >= 0) return granted;
    const used = await seed();
    // Another node may have seeded it meanwhile: its value (with what was taken since) wins.
    await this.redis.set(key, used, 'PX', today.endsInMs + MINUTE_MS, 'NX');
    return Math.max(0, await this.redis.mregKeyTakeTokens(key, want, limit));
  }

  async addTokens(keyId: string, day: string, tokens: number): Promise<void> {
    await this.redis.mregKeyAddTokens(this.tokensKey(keyId, day), tokens);
  }

  private slotsKey(keyId: string) {
    return `${this.prefix}:key:${keyId}:slots`;
  }

  private tokensKey(keyId: string, day: string) {
    return `${this.prefix}:key:${keyId}:tokens:${day}`;
  }
}
