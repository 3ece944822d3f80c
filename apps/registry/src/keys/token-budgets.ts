import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { UsageRecorder } from '../usage/usage-recorder';
import { KeyCounters } from './key-counters';
import { TokenLease } from './token-lease';
import { TokenMeter } from './token-meter';

/**
 * How long a key's lease outlives its last chat on this node: back-to-back chats reuse it, and
 * soon after, what is left goes back to the day's budget for other nodes.
 */
export const LEASE_IDLE_MS = 1_000;

/** Why a chat of a key with tokens_per_day is refused at admission. */
export type BudgetRefusal = 'spent' | 'too_few_left';

/**
 * This node's leases of the daily token budgets of the keys that have one (tokens_per_day), one per
 * key with chats in flight here (or in the last LEASE_IDLE_MS).
 */
@Injectable()
export class TokenBudgets implements OnModuleDestroy {
  private readonly logger = new Logger('TokenBudgets');
  private readonly leases = new Map<string, TokenLease>();

  constructor(
    private readonly counters: KeyCounters,
    private readonly usage: UsageRecorder,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * A meter for one chat of the key, once its prompt (about `promptTokens`) is reserved from what is
   * left of today's `limit`; rejects when the day counter cannot be reached.
   */
  async open(keyId: string, limit: number, promptTokens: number): Promise<TokenMeter | BudgetRefusal> {
    const lease = this.leaseOf(keyId, limit);
    lease.chats++;
    clearTimeout(lease.idleTimer);
    let reserved: boolean;
    try {
      reserved = await lease.reserve(promptTokens);
    } catch (err) {
      this.closed(lease);
      throw err;
    }
    if (reserved) return new TokenMeter(lease, promptTokens, () => this.closed(lease));
    this.closed(lease);
    return lease.available === 0 ? 'spent' : 'too_few_left';
  }

  async onModuleDestroy(): Promise<void> {
    const leases = [...this.leases.values()];
    this.leases.clear();
    for (const lease of leases) clearTimeout(lease.idleTimer);
    await Promise.all(leases.map((lease) => this.giveBack(lease)));
  }

  private leaseOf(keyId: string, limit: number): TokenLease {
    let lease = this.leases.get(keyId);
    if (!lease) {
      lease = new TokenLease(
        keyId,
        limit,
        this.config.keys.tokenLease,
        this.counters,
        () => this.usage.tokensToday(keyId),
        (message) => this.logger.warn(message),
      );
      this.leases.set(keyId, lease);
    }
    lease.limit = limit;
    return lease;
  }

  private closed(lease: TokenLease): void {
    if (--lease.chats > 0) return;
    clearTimeout(lease.idleTimer);
    lease.idleTimer = setTimeout(() => {
      if (lease.chats > 0 || this.leases.get(lease.keyId) !== lease) return;
      this.leases.delete(lease.keyId);
      void this.giveBack(lease);
    }, LEASE_IDLE_MS);
    lease.idleTimer.unref();
  }

  private giveBack(lease: TokenLease): Promise<void> {
    return lease
      .giveBack()
      .catch((err: Error) =>
        this.logger.warn(`could not give tokens of key ${lease.keyId} back: ${err.message}`),
      );
  }
}
