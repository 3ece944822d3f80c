import { histogramQuantileMs, statsBetween } from './node-stats';

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
