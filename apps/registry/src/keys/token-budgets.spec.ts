import type { AppConfig } from '../config/app-config';
import type { UsageRecorder } from '../usage/usage-recorder';
import { KeyCounters, MemoryKeyCounters, utcDay } from './key-counters';
import { LEASE_IDLE_MS, TokenBudgets } from './token-budgets';
import { TokenMeter } from './token-meter';

const LINE = '{"choices":[{"index":0,"delta":{"content":"tok"}}]}';
const lines = (n: number) => Array.from({ length: n }, () => LINE);
const settled = () => new Promise((resolve) => setImmediate(resolve));

/** A node's budgets over a shared day counter (one Redis, here in memory), with `lease` tokens a lease. */
function node(counters: KeyCounters, lease: number, recorded = 0): TokenBudgets {
  const usage = { tokensToday: async () => recorded } as unknown as UsageRecorder;
  return new TokenBudgets(counters, usage, { keys: { tokenLease: lease } } as AppConfig);
}

/** What is left of the key's day: takes it all (so call it last). */
const left = (counters: KeyCounters, limit: number) =>
  counters.takeTokens('k', utcDay(), limit, limit, async () => 0);

/** Relays `answer` tokens one line at a time, waiting for refills; returns how many went out. */
async function stream(meter: TokenMeter, answer: number): Promise<number> {
  let relayed = 0;
  while (relayed < answer) {
    if (meter.take([LINE]) === 1) relayed++;
    else if (!(await meter.refilled())) break;
  }
  return relayed;
}

const open = async (budgets: TokenBudgets, limit: number, prompt = 1) => {
  const meter = await budgets.open('k', limit, prompt);
  if (!(meter instanceof TokenMeter)) throw new Error(`refused: ${meter}`);
  return meter;
};

describe('token budgets: leases of a daily budget shared by nodes', () => {
  it('20 parallel chats on two nodes relay no more than the budget holds, and use all of it', async () => {
    const counters = new MemoryKeyCounters();
    const [a, b] = [node(counters, 4), node(counters, 4)];
    const meters = await Promise.all(Array.from({ length: 20 }, (_, i) => open(i % 2 ? a : b, 100)));
    const relayed = await Promise.all(meters.map((meter) => stream(meter, 50)));
    const total = relayed.reduce((sum, n) => sum + n, 0);
    // 20 prompt tokens were reserved at admission; the rest went to callers, not one token more.
    expect(total).toBe(80);
    for (const meter of meters) meter.settle({ promptTokens: 0, completionTokens: 0 });
    expect(await left(counters, 100)).toBe(0);
  });

  it('charges a caller who left what it got, or the model’s usage when it sent one, and gives the rest back once idle', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    try {
      const counters = new MemoryKeyCounters();
      const budgets = node(counters, 32, 10);
      const leaving = await open(budgets, 1_000, 3);
      expect(await stream(leaving, 45)).toBe(45);
      expect(leaving.settle({ promptTokens: 0, completionTokens: 0 })).toEqual({
        promptTokens: 3,
        completionTokens: 45,
      });
      const counted = await open(budgets, 1_000, 3);
      await stream(counted, 20);
      expect(counted.settle({ promptTokens: 7, completionTokens: 18 })).toEqual({
        promptTokens: 7,
        completionTokens: 18,
      });
      jest.advanceTimersByTime(LEASE_IDLE_MS);
      await settled();
      // 10 recorded before, 48 and 25 charged now: the lease's unspent tokens went back.
      expect(await left(counters, 1_000)).toBe(1_000 - 10 - 48 - 25);
    } finally {
      jest.useRealTimers();
    }
  });

  it('refills in the background from half a lease on, so a stream does not wait for it', async () => {
    const counters = new MemoryKeyCounters();
    const meter = await open(node(counters, 8), 1_000);
    expect(meter.take(lines(5))).toBe(5);
    await settled();
    // 2 were left; the refill that started at 3 brought the lease back up without anyone waiting.
    expect(meter.take(lines(7))).toBe(7);
  });

  it('refuses a chat when nothing is left, and one whose prompt needs more than is left', async () => {
    const counters = new MemoryKeyCounters();
    const budgets = node(counters, 4);
    const meter = await open(budgets, 10, 2);
    expect(await stream(meter, 100)).toBe(8);
    expect(await budgets.open('k', 10, 1)).toBe('spent');
    meter.settle({ promptTokens: 0, completionTokens: 0 });

    const fresh = node(new MemoryKeyCounters(), 4);
    expect(await fresh.open('k', 10, 11)).toBe('too_few_left');
    // Nothing was spent on the refused prompt: a chat that fits still gets in.
    expect(await fresh.open('k', 10, 10)).toBeInstanceOf(TokenMeter);
  });

  it('gives back what a chat refused after admission reserved', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    try {
      const counters = new MemoryKeyCounters();
      const budgets = node(counters, 4);
      (await open(budgets, 10, 6)).cancel();
      jest.advanceTimersByTime(LEASE_IDLE_MS);
      await settled();
      expect(await left(counters, 10)).toBe(10);
    } finally {
      jest.useRealTimers();
    }
  });

  it('rejects when the day counter cannot be reached (the caller gets 503, not a free pass)', async () => {
    const counters = new MemoryKeyCounters();
    jest.spyOn(counters, 'takeTokens').mockRejectedValue(new Error('Connection is closed.'));
    await expect(node(counters, 4).open('k', 10, 1)).rejects.toThrow('Connection is closed.');
  });
});
