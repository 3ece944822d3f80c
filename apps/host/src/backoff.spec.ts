import { Backoff, smallJitter } from './backoff';

describe('Backoff', () => {
  it('draws each delay in [0, min(cap, base * 2^attempt))', () => {
    const b = new Backoff({ baseMs: 500, capMs: 30_000 });
    const ceilings = [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000];
    for (const ceiling of ceilings) {
      expect(b.ceiling()).toBe(ceiling);
      const d = b.next();
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(ceiling);
      expect(Number.isInteger(d)).toBe(true);
    }
  });

  it('uses the full range (full jitter), from 0 up to just under the ceiling', () => {
    const low = new Backoff({ baseMs: 500, capMs: 30_000, random: () => 0 });
    const high = new Backoff({ baseMs: 500, capMs: 30_000, random: () => 0.999999 });
    for (let i = 0; i < 20; i++) {
      expect(low.next()).toBe(0);
      const ceiling = high.ceiling();
      expect(high.next()).toBe(ceiling - 1);
    }
  });

  it('never exceeds the cap, even after very many attempts', () => {
    const b = new Backoff({ baseMs: 500, capMs: 30_000, random: () => 0.999999 });
    for (let i = 0; i < 10_000; i++) expect(b.next()).toBeLessThan(30_000);
    expect(b.ceiling()).toBe(30_000);
    expect(b.attempts).toBeLessThan(10); // stops counting at the cap
  });

  it('starts over after reset', () => {
    const b = new Backoff({ baseMs: 100, capMs: 10_000, random: () => 0.5 });
    b.next();
    b.next();
    b.next();
    expect(b.ceiling()).toBe(800);
    b.reset();
    expect(b.ceiling()).toBe(100);
    expect(b.next()).toBe(50);
  });

  it('spreads delays over the range', () => {
    const b = new Backoff({ baseMs: 1000, capMs: 1000 });
    const delays = Array.from({ length: 2000 }, () => b.next());
    const mean = delays.reduce((a, d) => a + d, 0) / delays.length;
    expect(mean).toBeGreaterThan(400);
    expect(mean).toBeLessThan(600);
    expect(Math.min(...delays)).toBeLessThan(50);
    expect(Math.max(...delays)).toBeGreaterThan(950);
  });

  it('refuses a cap below the base', () => {
    expect(() => new Backoff({ baseMs: 1000, capMs: 10 })).toThrow(RangeError);
  });

  it('smallJitter stays under its bound', () => {
    for (let i = 0; i < 1000; i++) {
      const j = smallJitter(250);
      expect(j).toBeGreaterThanOrEqual(0);
      expect(j).toBeLessThan(250);
    }
  });
});
