import { performance } from 'node:perf_hooks';

/**
 * A silence limit for an answer in progress, with one timer per silence rather than one per chunk:
 * a chunk only notes the time (`touch`); the timer, when it fires, checks how long it has really
 * been quiet and waits for the rest of the window if less. Shared by chat and the other endpoints.
 */
export class IdleTimer {
  private timer?: NodeJS.Timeout;
  private lastActivityAt = 0;

  /** `expired(message)` runs once the limit armed last passes without a `touch`. */
  constructor(private readonly expired: (message: string) => void) {}

  /** Something came: the silence starts again now. */
  touch(): void {
    this.lastActivityAt = performance.now();
  }

  /** (Re)starts the watch with a new limit, counted from now. */
  arm(limitMs: number, message: string): void {
    clearTimeout(this.timer);
    this.lastActivityAt = performance.now();
    const check = (delayMs: number) => {
      this.timer = setTimeout(() => {
        const quietMs = performance.now() - this.lastActivityAt;
        if (quietMs >= limitMs - 1) this.expired(message);
        else check(limitMs - quietMs);
      }, delayMs);
    };
    check(limitMs);
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
