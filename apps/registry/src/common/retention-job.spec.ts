import { Logger } from '@nestjs/common';
import { RetentionJob } from './retention-job';

const DAY_MS = 86_400_000;
const timing = { firstWithinMs: 60_000, everyMs: 3_600_000, random: () => 0.5 };

describe('RetentionJob', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterEach(() => jest.useRealTimers());

  it('deletes what is older than the retention, batch after batch until one comes back short', async () => {
    const calls: Array<[Date, number]> = [];
    const left = [5_000, 5_000, 1_234];
    const job = new RetentionJob('rows', 400, async (before, batch) => {
      calls.push([before, batch]);
      return left.shift() ?? 0;
    });
    const now = Date.UTC(2026, 11, 6);
    expect(await job.run(now)).toBe(11_234);
    expect(calls).toEqual([
      [new Date(now - 400 * DAY_MS), 5_000],
      [new Date(now - 400 * DAY_MS), 5_000],
      [new Date(now - 400 * DAY_MS), 5_000],
    ]);
  });

  it('runs once soon after start, then about every hour, and not after it is stopped', async () => {
    jest.useFakeTimers();
    let runs = 0;
    const job = new RetentionJob(
      'rows',
      30,
      async () => {
        runs++;
        return 0;
      },
      timing,
    );
    job.onModuleInit();
    await jest.advanceTimersByTimeAsync(29_999);
    expect(runs).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(runs).toBe(1);
    await jest.advanceTimersByTimeAsync(3_600_000);
    expect(runs).toBe(2);
    await job.onModuleDestroy();
    await jest.advanceTimersByTimeAsync(10 * 3_600_000);
    expect(runs).toBe(2);
  });

  it('keeps its schedule after a failed run, and stopping waits for the run under way', async () => {
    jest.useFakeTimers();
    const outcomes: Array<() => Promise<number>> = [
      () => Promise.reject(new Error('database down')),
      () => new Promise((resolve) => setTimeout(() => resolve(0), 5_000)),
    ];
    let runs = 0;
    const job = new RetentionJob('rows', 30, () => (runs++, outcomes.shift()!()), timing);
    job.onModuleInit();
    await jest.advanceTimersByTimeAsync(30_000);
    await jest.advanceTimersByTimeAsync(3_600_000);
    expect(runs).toBe(2);
    let stopped = false;
    const stopping = job.onModuleDestroy().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(4_000);
    expect(stopped).toBe(false);
    await jest.advanceTimersByTimeAsync(1_000);
    await stopping;
    expect(stopped).toBe(true);
  });
});
