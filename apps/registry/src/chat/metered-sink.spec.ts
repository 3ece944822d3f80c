import { RecordingSink } from '../../../../test/doubles/recording-sink';
import type { AppConfig } from '../config/app-config';
import { MemoryKeyCounters } from '../keys/key-counters';
import { TokenBudgets } from '../keys/token-budgets';
import { TokenMeter } from '../keys/token-meter';
import type { UsageRecorder } from '../usage/usage-recorder';
import { MeteredSink } from './metered-sink';

const token = (i: number) => `{"choices":[{"index":0,"delta":{"content":"t${i}"}}]}`;
const tokens = (from: number, n: number) => Array.from({ length: n }, (_, i) => token(from + i));
const FINISH = '{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}';
const settled = async () => {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
};

async function metered(counters: MemoryKeyCounters, limit: number, lease: number) {
  const usage = { tokensToday: async () => 0 } as unknown as UsageRecorder;
  const budgets = new TokenBudgets(counters, usage, { keys: { tokenLease: lease } } as AppConfig);
  const meter = await budgets.open('k', limit, 1);
  if (!(meter instanceof TokenMeter)) throw new Error(`refused: ${meter}`);
  const caller = new RecordingSink();
  const cancel = jest.fn();
  return { caller, cancel, sink: new MeteredSink(caller, meter, cancel) };
}

describe('MeteredSink: the answer of a key with tokens_per_day', () => {
  it('relays as far as the budget goes, then ends with tokens_per_day_exceeded instead of [DONE]', async () => {
    const { caller, sink } = await metered(new MemoryKeyCounters(), 5, 32);
    // One frame with the whole answer: the budget cuts inside it, not after it.
    sink.lines([...tokens(0, 10), FINISH]);
    sink.done();
    await settled();
    expect(caller.events).toEqual([...tokens(0, 4), 'error:tokens_per_day_exceeded']);
  });

  it('holds lines while the lease refills, in order, with the host’s done behind them', async () => {
    const { caller, sink } = await metered(new MemoryKeyCounters(), 1_000, 2);
    sink.lines(tokens(0, 6));
    sink.lines([...tokens(6, 4), FINISH]);
    sink.done();
    expect(caller.events.length).toBeLessThan(10);
    await settled();
    expect(caller.events).toEqual([...tokens(0, 10), FINISH, 'done']);
  });

  it('ends the answer and stops the host when the budget cannot be read mid-answer', async () => {
    const counters = new MemoryKeyCounters();
    const { caller, cancel, sink } = await metered(counters, 1_000, 2);
    jest.spyOn(counters, 'takeTokens').mockRejectedValue(new Error('Connection is closed.'));
    sink.lines(tokens(0, 5));
    await settled();
    expect(caller.events).toEqual([token(0), 'error:node_unreachable']);
    expect(cancel).toHaveBeenCalled();
  });

  it('passes a failure of the host on at once, dropping what waited', async () => {
    const { caller, sink } = await metered(new MemoryKeyCounters(), 1_000, 2);
    sink.lines(tokens(0, 5));
    sink.error('host_error', 'model crashed');
    await settled();
    expect(caller.events).toEqual([token(0), 'error:host_error']);
  });
});
