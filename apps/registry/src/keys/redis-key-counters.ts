import type { RedisClient } from '../redis/redis-connections';
import { KeyCounters, MINUTE_MS, utcDay } from './key-counters';

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

/** Only a seeded counter grows: an unseeded one will be seeded from the recorded usage, which holds these tokens. */
const ADD_TOKENS = `
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCRBY', KEYS[1], ARGV[1]) end
return -1`;

type Scripted = RedisClient & {
  mregKeyRpm(key: string, windowMs: number, limit: number): Promise<number>;
  mregKeyAcquire(key: string, now: number, limit: number, ttlMs: number, slot: string): Promise<number>;
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

  async tokensToday(keyId: string, seed: () => Promise<number>): Promise<number> {
    const { day, endsInMs } = utcDay();
    const key = this.tokensKey(keyId, day);
    const current = await this.redis.get(key);
    if (current !== null) return Number(current);
    const used = await seed();
    // Another node may have seeded it meanwhile: its value (with what was added since) wins.
    await this.redis.set(key, used, 'PX', endsInMs + MINUTE_MS, 'NX');
    return Number((await this.redis.get(key)) ?? used);
  }

  async addTokens(keyId: string, tokens: number): Promise<void> {
    await this.redis.mregKeyAddTokens(this.tokensKey(keyId, utcDay().day), tokens);
  }

  private slotsKey(keyId: string) {
    return `${this.prefix}:key:${keyId}:slots`;
  }

  private tokensKey(keyId: string, day: string) {
    return `${this.prefix}:key:${keyId}:tokens:${day}`;
  }
}
