import { KeyCounters, utcDay } from './key-counters';

/**
 * The tokens of one key's daily budget that this node holds. They are taken from the cluster-wide
 * day counter in leases (one atomic step each, never past the limit), spent line by line by the
 * key's chats here without a round trip, refilled in the background from half a lease on, and given
 * back when the chats end. A line is relayed only with a token in hand, so what all nodes relay
 * together never passes the budget, whatever the parallelism.
 */
export class TokenLease {
  /** Tokens taken from the day's budget and not spent yet. */
  available = 0;
  /** Chats of the key in flight on this node. */
  chats = 0;
  /** Gives the lease back once the key's chats here stay idle (see TokenBudgets). */
  idleTimer?: NodeJS.Timeout;
  /** The day the tokens held were taken from: where unspent ones go back. */
  private day = '';
  private refilling: Promise<number> | null = null;

  constructor(
    readonly keyId: string,
    /** The key's tokens_per_day, kept current by TokenBudgets (an owner may change it). */
    public limit: number,
    /** Tokens a lease holds per chat in flight here. */
    private readonly size: number,
    private readonly counters: KeyCounters,
    /** Tokens the key used today according to the recorded usage (seeds a missing day counter). */
    private readonly seed: () => Promise<number>,
    private readonly warn: (message: string) => void,
  ) {}

  /** Spends one token; false when none is held (then `refill()` says whether more come). */
  spendOne(): boolean {
    if (this.available === 0) return false;
    this.available--;
    // Refilled before it runs dry, so a stream does not wait in the common case.
    if (this.available * 2 < this.target() && this.refilling === null)
      this.refill().catch((err: Error) =>
        this.warn(`could not take tokens of key ${this.keyId}: ${err.message}`),
      );
    return true;
  }

  /** Spends `tokens` at once (a prompt), taking more from the day's budget if needed; false when it has too few left. */
  async reserve(tokens: number): Promise<boolean> {
    while (this.available < tokens) if ((await this.refill(tokens - this.available)) === 0) return false;
    this.available -= tokens;
    return true;
  }

  /**
   * Settles a chat whose charge differs from what it spent by `tokens`: more is spent from the lease
   * (or charged to the day directly when the lease is short: the model already answered), less
   * comes back to it.
   */
  charge(tokens: number): void {
    const fromLease = Math.min(tokens, this.available);
    this.available -= fromLease;
    if (tokens > fromLease)
      this.counters
        .addTokens(this.keyId, utcDay().day, tokens - fromLease)
        .catch((err: Error) => this.warn(`could not count tokens of key ${this.keyId}: ${err.message}`));
  }

  /**
   * Takes more of the day's tokens, at least `need` if it can (one request at a time per key and
   * node: callers share the one under way). Resolves with the tokens it got (0: the budget is spent
   * for now); rejects when the day counter cannot be reached.
   */
  refill(need = 1): Promise<number> {
    this.refilling ??= this.take(need).finally(() => (this.refilling = null));
    return this.refilling;
  }

  /** Gives the unspent tokens back to their day's budget, so another node can use them. */
  async giveBack(): Promise<void> {
    await this.refilling?.catch(() => 0);
    const left = this.available;
    this.available = 0;
    if (left > 0) await this.counters.addTokens(this.keyId, this.day, -left);
  }

  private async take(need: number): Promise<number> {
    const today = utcDay();
    if (today.day !== this.day) {
      // A new UTC day: what is left of yesterday's lease goes back to yesterday.
      if (this.available > 0 && this.day !== '')
        this.counters
          .addTokens(this.keyId, this.day, -this.available)
          .catch((err: Error) =>
            this.warn(`could not give tokens of key ${this.keyId} back: ${err.message}`),
          );
      this.available = 0;
      this.day = today.day;
    }
    const want = Math.max(need, this.target() - this.available, 1);
    const granted = await this.counters.takeTokens(this.keyId, today, want, this.limit, this.seed);
    this.available += granted;
    return granted;
  }

  /** A lease per chat in flight here: many parallel chats of one key refill no more often than one. */
  private target(): number {
    return this.size * Math.max(1, this.chats);
  }
}
