export interface BackoffOptions {
  /** First ceiling, in ms (default 500). */
  baseMs?: number;
  /** Largest ceiling, in ms (default 30 000). */
  capMs?: number;
  /** Source of randomness in [0, 1); injectable for tests. */
  random?: () => number;
}

/**
 * Exponential backoff with "full jitter": the n-th retry waits a uniformly random time in
 * [0, min(cap, base * 2^n)). Full jitter spreads a crowd of agents that lost the same registry
 * node at the same moment, so they do not all come back in lock-step.
 */
export class Backoff {
  readonly baseMs: number;
  readonly capMs: number;
  private readonly random: () => number;
  private attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.baseMs = options.baseMs ?? 500;
    this.capMs = options.capMs ?? 30_000;
    this.random = options.random ?? Math.random;
    if (!(this.baseMs > 0) || !(this.capMs >= this.baseMs)) {
      throw new RangeError(`invalid backoff: base ${this.baseMs} ms, cap ${this.capMs} ms`);
    }
  }

  /** Number of delays handed out since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The ceiling the next delay will be drawn under. */
  ceiling(): number {
    // 2^attempt overflows to Infinity for a large attempt; Math.min still yields the cap.
    return Math.min(this.capMs, this.baseMs * 2 ** this.attempt);
  }

  /** Returns the next delay in ms and moves on to the next attempt. */
  next(): number {
    const delay = Math.floor(this.random() * this.ceiling());
    // Stop counting once the cap is reached so the counter never grows without bound.
    if (this.baseMs * 2 ** this.attempt < this.capMs) this.attempt += 1;
    return delay;
  }

  reset(): void {
    this.attempt = 0;
  }
}

/** A small random delay in [0, maxMs), used when reconnecting at once (after `goaway`). */
export function smallJitter(maxMs = 250, random: () => number = Math.random): number {
  return Math.floor(random() * maxMs);
}
