/**
 * Counts events per key in fixed one-minute windows. Small and allocation-light: one entry per
 * active key, swept as windows expire. Per node: with N nodes a client gets up to N× the limit.
 */
export class WindowCounter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.limit > 0;
  }

  /** Counts one event; returns how long to wait when the key is over its limit, else 0. */
  hit(key: string): number {
    if (!this.enabled) return 0;
    const entry = this.current(key);
    entry.count++;
    return entry.count > this.limit ? entry.resetAt - this.now() : 0;
  }

  /** Whether the key is over its limit, without counting; returns the wait in ms, else 0. */
  blockedFor(key: string): number {
    if (!this.enabled) return 0;
    const entry = this.windows.get(key);
    if (!entry || entry.resetAt <= this.now()) return 0;
    return entry.count >= this.limit ? entry.resetAt - this.now() : 0;
  }

  private current(key: string): { count: number; resetAt: number } {
    const now = this.now();
    let entry = this.windows.get(key);
    if (!entry || entry.resetAt <= now) {
      if (this.windows.size > 100_000) this.sweep(now);
      entry = { count: 0, resetAt: now + this.windowMs };
      this.windows.set(key, entry);
    }
    return entry;
  }

  private sweep(now: number): void {
    for (const [key, entry] of this.windows) if (entry.resetAt <= now) this.windows.delete(key);
  }
}
