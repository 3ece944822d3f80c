import { Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';

const DAY_MS = 86_400_000;
/** Rows per DELETE: short statements, and a node stopped mid-purge leaves little undone. */
const BATCH = 5_000;
/** Batches per run at most (1M rows); what is left waits for the next run. */
const MAX_BATCHES = 200;

export interface RetentionTiming {
  /** The first run comes at a random moment within this much of the start. */
  firstWithinMs: number;
  /** Then one run per this, ±10 %, so nodes started together drift apart. */
  everyMs: number;
  random: () => number;
}

const HOURLY: RetentionTiming = { firstWithinMs: 60_000, everyMs: 3_600_000, random: Math.random };

/**
 * Deletes rows older than a retention, soon after start and then about hourly. `purge` deletes at
 * most `batch` rows older than `before` and skips rows another node is deleting, so every node may
 * run this at once: they share the work and a row is deleted once.
 */
export class RetentionJob implements OnModuleInit, OnModuleDestroy {
  private readonly logger: Logger;
  private timer?: NodeJS.Timeout;
  private running: Promise<number> | null = null;
  private stopped = false;

  constructor(
    private readonly what: string,
    private readonly retentionDays: number,
    private readonly purge: (before: Date, batch: number) => Promise<number>,
    private readonly timing: RetentionTiming = HOURLY,
  ) {
    this.logger = new Logger('Retention');
  }

  onModuleInit(): void {
    this.schedule(this.timing.random() * this.timing.firstWithinMs);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => 0);
  }

  /** Deletes what is past the retention at `now`; answers how many rows. */
  async run(now = Date.now()): Promise<number> {
    const before = new Date(now - this.retentionDays * DAY_MS);
    let deleted = 0;
    for (let i = 0; i < MAX_BATCHES && !this.stopped; i++) {
      const batch = await this.purge(before, BATCH);
      deleted += batch;
      if (batch < BATCH) break;
    }
    if (deleted > 0) this.logger.log(`deleted ${deleted} ${this.what} older than ${this.retentionDays} days`);
    return deleted;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.running = this.run();
    try {
      await this.running;
    } catch (err) {
      this.logger.warn(`could not delete old ${this.what}: ${(err as Error).message}`);
    } finally {
      this.running = null;
    }
    if (!this.stopped) this.schedule(this.timing.everyMs * (0.9 + 0.2 * this.timing.random()));
  }
}
