import type { ChatFailureCode } from '@app/protocol';
import type { TokenMeter } from '../keys/token-meter';
import type { RoutedSink } from './chat-router';

/**
 * The caller's side of a chat whose key has a daily token budget: a line goes on to the caller only
 * with a token of the node's lease in hand. When the lease is empty the rest waits here for its
 * refill (rare: refills start at half a lease); when the budget is spent, the answer ends with an
 * error event (429 `tokens_per_day_exceeded`) and no [DONE], and the host is told to stop. Chats
 * without a budget never pass through this class.
 */
export class MeteredSink implements RoutedSink {
  /** Lines waiting for tokens (null: none), and whether the host's `done` came behind them. */
  private waiting: string[] | null = null;
  private doneWaiting = false;

  constructor(
    private readonly caller: RoutedSink,
    private readonly meter: TokenMeter,
    /** Stops the request at the host (the caller's failures that are not its own). */
    private readonly cancel: () => void,
  ) {}

  get isFinished(): boolean {
    return this.caller.isFinished;
  }

  lines(lines: string[]): void {
    if (this.waiting !== null) {
      for (const line of lines) this.waiting.push(line);
      return;
    }
    const allowed = this.meter.take(lines);
    if (allowed === lines.length) return this.caller.lines(lines);
    if (allowed > 0) this.caller.lines(lines.slice(0, allowed));
    this.waiting = lines.slice(allowed);
    this.meter.refilled().then(
      (more) => this.resume(more),
      () => this.resume(null),
    );
  }

  done(): void {
    if (this.waiting !== null) this.doneWaiting = true;
    else this.caller.done();
  }

  error(code: ChatFailureCode, message: string): void {
    this.waiting = null;
    this.caller.error(code, message);
  }

  /** `more`: tokens came (true), the budget is spent (false), or it could not be read (null). */
  private resume(more: boolean | null): void {
    const lines = this.waiting;
    this.waiting = null;
    if (lines === null || this.caller.isFinished) return;
    if (more === null) {
      this.caller.error('node_unreachable', 'the registry cannot check this key’s token budget right now');
      return this.cancel();
    }
    if (!more)
      return this.caller.error(
        'tokens_per_day_exceeded',
        `this access key used its ${this.meter.limit} tokens for today (UTC); the answer ends here`,
      );
    this.lines(lines);
    if (this.waiting === null && this.doneWaiting) this.caller.done();
  }
}
