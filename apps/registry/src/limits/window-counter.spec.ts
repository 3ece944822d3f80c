import { WindowCounter } from './window-counter';

describe('WindowCounter', () => {
  it('allows up to the limit per window, then says how long to wait', () => {
    let now = 1_000;
    const counter = new WindowCounter(2, 60_000, () => now);
    expect(counter.hit('a')).toBe(0);
    expect(counter.blockedFor('a')).toBe(0);
    expect(counter.hit('a')).toBe(0);
    expect(counter.blockedFor('a')).toBe(60_000);
    now += 10_000;
    expect(counter.hit('a')).toBe(50_000);
    expect(counter.hit('b')).toBe(0);
    now += 50_000;
    expect(counter.blockedFor('a')).toBe(0);
    expect(counter.hit('a')).toBe(0);
  });

  it('never limits when the limit is 0', () => {
    const counter = new WindowCounter(0);
    for (let i = 0; i < 100; i++) expect(counter.hit('x')).toBe(0);
    expect(counter.blockedFor('x')).toBe(0);
  });
});
