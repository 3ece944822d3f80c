import type { NodeStats } from '@app/contracts';
import { decodeNodeStats, histogramQuantileMs, statsBetween } from './node-stats';

describe('histogramQuantileMs', () => {
  const bounds = [0.01, 0.1, 1];

  it('is null for an empty histogram', () => {
    expect(histogramQuantileMs(bounds, [0, 0, 0, 0], 0.5)).toBeNull();
  });

  it('interpolates inside the bucket holding the rank', () => {
    // 10 observations between 10 ms and 100 ms: the median sits half way through that bucket.
    expect(histogramQuantileMs(bounds, [0, 10, 10, 10], 0.5)).toBe(55);
    // 100 observations, 98 fast and 2 between 0.1 s and 1 s: p99 lies in the slow bucket.
    expect(histogramQuantileMs(bounds, [98, 98, 100, 100], 0.99)).toBe(550);
  });

  it('reports the last bound for values past it', () => {
    expect(histogramQuantileMs(bounds, [0, 0, 0, 4], 0.5)).toBe(1000);
  });
});

describe('statsBetween', () => {
  it('counts only what happened inside the windows', () => {
    const bounds = [0.01, 0.1, 1];
    const old = { at: 0, chats: 100, ttftBuckets: [50, 100, 100, 100] };
    const now = { at: 10_000, chats: 150, ttftBuckets: [50, 150, 150, 150] };
    expect(statsBetween(old, old, now, bounds)).toEqual({
      chats_per_second: 5,
      ttft_p50_ms: 55,
      ttft_p99_ms: 99.1,
    });
  });
});

describe('decodeNodeStats', () => {
  const stats: NodeStats = {
    node_id: 'node-b',
    at: 1_700_000_000_000,
    draining: false,
    connected_hosts: 3,
    chats_in_flight: 1,
    chats_per_second: 0.5,
    ttft_p50_ms: 12.5,
    ttft_p99_ms: null,
  };

  it('keeps exactly the fields of the stats (the sender named in `from` is not one of them)', () => {
    expect(decodeNodeStats({ ...stats, from: 'node-b', extra: 'x' })).toEqual(stats);
  });

  it('is null when a field is missing or of the wrong kind', () => {
    for (const broken of [
      { node_id: undefined },
      { at: 'now' },
      { draining: 0 },
      { connected_hosts: -1 },
      { chats_in_flight: Number.NaN },
      { chats_per_second: null },
      { ttft_p50_ms: '12' },
      { ttft_p99_ms: undefined },
    ])
      expect(decodeNodeStats({ ...stats, ...broken })).toBeNull();
  });
});
