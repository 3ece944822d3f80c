import { FrameRateLimiter } from './frame-rate-limiter';

describe('FrameRateLimiter', () => {
  it('admits frames up to the per-second frame budget, then says how long to stop reading', () => {
    const limiter = new FrameRateLimiter(3, 0);
    expect(limiter.admit(10, 1_000)).toBe(0);
    expect(limiter.admit(10, 1_100)).toBe(0);
    // The third frame uses up the budget: pause until the window that began at 1000 ends.
    expect(limiter.admit(10, 1_250)).toBe(750);
    expect(limiter.admit(10, 1_999)).toBe(1);
  });

  it('starts a fresh budget in the next window', () => {
    const limiter = new FrameRateLimiter(2, 0);
    limiter.admit(1, 0);
    expect(limiter.admit(1, 10)).toBeGreaterThan(0);
    expect(limiter.admit(1, 1_000)).toBe(0);
  });

  it('limits bytes per second independently of frames', () => {
    const limiter = new FrameRateLimiter(0, 1_000);
    expect(limiter.admit(600, 5_000)).toBe(0);
    expect(limiter.admit(600, 5_400)).toBe(600);
    expect(limiter.admit(999, 6_000)).toBe(0);
  });

  it('never limits when both budgets are 0', () => {
    const limiter = new FrameRateLimiter(0, 0);
    let paused = 0;
    for (let i = 0; i < 100_000; i++) paused += limiter.admit(1_000_000, 0);
    expect(paused).toBe(0);
  });
});
