import { carriesTokens } from './token-estimate';
import type { TokenLease } from './token-lease';

/** Tokens a chat is charged, as usage records them. */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

/**
 * One chat's share of its key's daily budget: the prompt (estimated) is reserved at admission, each
 * line carrying generated text spends a token of the node's lease as it is relayed, and at the end
 * the charge becomes the model's own usage when it sent one. A caller who leaves early has paid for
 * what it got; one whose model sends no usage pays the estimate.
 */
export class TokenMeter {
  /** Lines relayed that carried generated text: the completion estimate. */
  private relayed = 0;
  private open = true;

  constructor(
    private readonly lease: TokenLease,
    /** Reserved at admission. */
    private readonly promptTokens: number,
    private readonly closed: () => void,
  ) {}

  /** The key's tokens_per_day. */
  get limit(): number {
    return this.lease.limit;
  }

  /** How many of `lines`, from the first, may be relayed now; their tokens are spent. */
  take(lines: string[]): number {
    for (let i = 0; i < lines.length; i++) {
      if (!carriesTokens(lines[i])) continue;
      if (!this.lease.spendOne()) return i;
      this.relayed++;
    }
    return lines.length;
  }

  /** True once this node holds tokens of the key again, false when today's budget is spent; rejects when it cannot be read. */
  async refilled(): Promise<boolean> {
    if (this.lease.available > 0) return true;
    return (await this.lease.refill()) > 0 || this.lease.available > 0;
  }

  /** The chat ended: what it is charged (the model's usage, else the estimate), settled with the lease. */
  settle(usage: TokenUsage): TokenUsage {
    const reported = usage.promptTokens + usage.completionTokens > 0;
    const charged = reported ? usage : { promptTokens: this.promptTokens, completionTokens: this.relayed };
    this.close(charged.promptTokens + charged.completionTokens);
    return charged;
  }

  /** The chat was refused after admission: its reserved prompt goes back to the lease. */
  cancel(): void {
    this.close(0);
  }

  private close(charge: number): void {
    if (!this.open) return;
    this.open = false;
    this.lease.charge(charge - this.promptTokens - this.relayed);
    this.closed();
  }
}
