import { RedisKeyCounters } from '../../apps/registry/src/keys/redis-key-counters';
import { utcDay } from '../../apps/registry/src/keys/key-counters';
import { RedisConnections } from '../../apps/registry/src/redis/redis-connections';

// Runs against the shared Redis under its own key prefix, deleted afterwards.
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('RedisKeyCounters: token leases of a daily budget (real Redis)', () => {
  const prefix = `test-key-counters-${process.pid}-${Date.now()}`;
  let connections: RedisConnections;
  let counters: RedisKeyCounters;
  const today = utcDay();
  const counter = (keyId: string) => `${prefix}:key:${keyId}:tokens:${today.day}`;

  beforeAll(async () => {
    connections = new RedisConnections(REDIS_URL);
    await connections.waitReady();
    counters = new RedisKeyCounters(connections.command, prefix);
  });

  afterAll(async () => {
    await connections.command.del(counter('a'), counter('b'), counter('c'));
    await connections.close();
  });

  it('seeds the day once from the recorded usage, then grants leases up to the limit and never past it', async () => {
    const seed = jest.fn(async () => 30);
    const grants = await Promise.all(
      Array.from({ length: 10 }, () => counters.takeTokens('a', today, 32, 100, seed)),
    );
    expect(grants.reduce((sum, n) => sum + n, 0)).toBe(70);
    expect(grants.every((n) => n >= 0 && n <= 32)).toBe(true);
    expect(await connections.command.get(counter('a'))).toBe('100');
    expect(await counters.takeTokens('a', today, 32, 100, seed)).toBe(0);
    // The counter ends a minute after the UTC day does.
    const ttl = await connections.command.pttl(counter('a'));
    expect(ttl).toBeGreaterThan(today.endsInMs);
    expect(ttl).toBeLessThanOrEqual(today.endsInMs + 60_000);
  });

  it('takes back what a node gives back (never below 0), adds charges, and leaves an unseeded day alone', async () => {
    await counters.takeTokens('b', today, 40, 100, async () => 0);
    await counters.addTokens('b', today.day, -15);
    expect(await connections.command.get(counter('b'))).toBe('25');
    await counters.addTokens('b', today.day, 5);
    expect(await connections.command.get(counter('b'))).toBe('30');
    await counters.addTokens('b', today.day, -500);
    expect(await connections.command.get(counter('b'))).toBe('0');
    await counters.addTokens('c', today.day, 7);
    expect(await connections.command.exists(counter('c'))).toBe(0);
  });
});
