/**
 * Per-key limits (rpm, max_concurrent, tokens_per_day) counted for the whole cluster: in Redis in
 * distributed mode, in this process in embedded mode (one node). Only keys with a limit use them.
 */
export abstract class KeyCounters {
  /** Counts one request in the key's minute window; returns how long to wait when over `limit`, else 0. */
  abstract hitRpm(keyId: string, limit: number): Promise<number>;
  /** Takes one of `limit` slots for `slotId`; a slot not released is freed after `ttlMs` (node died). */
  abstract acquire(keyId: string, slotId: string, limit: number, ttlMs: number): Promise<boolean>;
  abstract release(keyId: string, slotId: string): Promise<void>;
  /**
   * Takes up to `want` of the key's tokens of `today`, never past `limit` (0: none are left); `seed`
   * reads the recorded usage when the day's counter is not there yet.
   */
  abstract takeTokens(
    keyId: string,
    today: UtcDay,
    want: number,
    limit: number,
    seed: () => Promise<number>,
  ): Promise<number>;
  /** Adds `tokens` to the key's counter of `day` (negative: gives them back), if it is there; never below 0. */
  abstract addTokens(keyId: string, day: string, tokens: number): Promise<void>;
}

export const MINUTE_MS = 60_000;

export interface UtcDay {
  /** YYYYMMDD */
  day: string;
  endsInMs: number;
}

/** The current UTC day as YYYYMMDD and the ms until it ends. */
export function utcDay(now = Date.now()): UtcDay {
  const date = new Date(now);
  const day = date.toISOString().slice(0, 10).replace(/-/g, '');
  const end = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1);
  return { day, endsInMs: end - now };
}

/** Embedded mode: one node, so the counts live in this process. */
export class MemoryKeyCounters extends KeyCounters {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  private readonly slots = new Map<string, Map<string, number>>();
  private readonly tokens = new Map<string, { day: string; used: number }>();

  async hitRpm(keyId: string, limit: number): Promise<number> {
    const now = Date.now();
    let window = this.windows.get(keyId);
    if (!window || window.resetAt <= now) {
      if (this.windows.size > 100_000) this.windows.clear();
      window = { count: 0, resetAt: now + MINUTE_MS };
      this.windows.set(keyId, window);
    }
    window.count++;
    return window.count > limit ? window.resetAt - now : 0;
  }

  async acquire(keyId: string, slotId: string, limit: number, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const slots = this.slots.get(keyId) ?? new Map<string, number>();
    for (const [id, expires] of slots) if (expires <= now) slots.delete(id);
    if (slots.size >= limit) return false;
    slots.set(slotId, now + ttlMs);
    this.slots.set(keyId, slots);
    return true;
  }

  async release(keyId: string, slotId: string): Promise<void> {
    const slots = this.slots.get(keyId);
    slots?.delete(slotId);
    if (slots?.size === 0) this.slots.delete(keyId);
  }

  async takeTokens(
    keyId: string,
    today: UtcDay,
    want: number,
    limit: number,
    seed: () => Promise<number>,
  ): Promise<number> {
    let entry = this.tokens.get(keyId);
    if (entry?.day !== today.day) {
      const used = await seed();
      entry = this.tokens.get(keyId);
      // Seeded meanwhile by another chat: its count (with what was taken since) wins.
      if (entry?.day !== today.day) {
        entry = { day: today.day, used };
        this.tokens.set(keyId, entry);
      }
    }
    const granted = Math.max(0, Math.min(want, limit - entry.used));
    entry.used += granted;
    return granted;
  }

  async addTokens(keyId: string, day: string, tokens: number): Promise<void> {
    const entry = this.tokens.get(keyId);
    if (entry?.day === day) entry.used = Math.max(0, entry.used + tokens);
  }
}
