import { MemoryKeyCounters, utcDay } from './key-counters';

describe('per-key counters of an embedded node', () => {
  it('lets `limit` requests through per minute window, then answers how long to wait', async () => {
    const counters = new MemoryKeyCounters();
    for (let i = 0; i < 3; i++) expect(await counters.hitRpm('k', 3)).toBe(0);
    const wait = await counters.hitRpm('k', 3);
    expect(wait).toBeGreaterThan(59_000);
    expect(wait).toBeLessThanOrEqual(60_000);
    expect(await counters.hitRpm('other', 3)).toBe(0);
  });

  it('gives out `limit` concurrency slots, takes released ones back, and frees expired ones', async () => {
    const counters = new MemoryKeyCounters();
    expect(await counters.acquire('k', 'r1', 1, 60_000)).toBe(true);
    expect(await counters.acquire('k', 'r2', 1, 60_000)).toBe(false);
    await counters.release('k', 'r1');
    expect(await counters.acquire('k', 'r2', 1, 0)).toBe(true);
    // r2's slot expired at once (a node that never released it): the next one gets it.
    expect(await counters.acquire('k', 'r3', 1, 60_000)).toBe(true);
  });

  it("seeds today's tokens once from the recorded usage, then grants what is left of the limit, never more", async () => {
    const counters = new MemoryKeyCounters();
    const today = utcDay();
    const seed = jest.fn(async () => 40);
    expect(await counters.takeTokens('k', today, 32, 100, seed)).toBe(32);
    expect(await counters.takeTokens('k', today, 32, 100, seed)).toBe(28);
    expect(await counters.takeTokens('k', today, 32, 100, seed)).toBe(0);
    expect(seed).toHaveBeenCalledTimes(1);
  });

  it('takes back tokens given back (never below 0) and adds charges, on their own day only', async () => {
    const counters = new MemoryKeyCounters();
    const today = utcDay();
    await counters.takeTokens('k', today, 10, 10, async () => 0);
    await counters.addTokens('k', today.day, -4);
    expect(await counters.takeTokens('k', today, 10, 10, async () => 0)).toBe(4);
    await counters.addTokens('k', '19991231', -10);
    expect(await counters.takeTokens('k', today, 10, 10, async () => 0)).toBe(0);
    await counters.addTokens('k', today.day, -50);
    await counters.addTokens('k', today.day, 3);
    expect(await counters.takeTokens('k', today, 10, 10, async () => 0)).toBe(7);
  });

  it('names the UTC day and the time until it ends', () => {
    const { day, endsInMs } = utcDay(Date.UTC(2026, 10, 29, 23, 0, 0));
    expect([day, endsInMs]).toEqual(['20261129', 3_600_000]);
  });
});
