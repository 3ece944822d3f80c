import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { noRefusals, REFUSED_STATUSES, RefusedStatus, UsageRepository, UsageRow } from './usage.repository';

/** What one finished chat adds to its minute. */
export interface ChatUsage {
  instanceId: string;
  /** null: no key. */
  keyId: string | null;
  failed: boolean;
  promptTokens: number;
  completionTokens: number;
  firstChunkMs: number | null;
}

const MINUTE_MS = 60_000;

/**
 * Adds chats up in memory per (instance, key, minute) and writes them every USAGE_FLUSH_MS in one
 * batched upsert (plus one UPDATE of the keys' last use): no database write per chat. On SIGTERM
 * the rest is written; a SIGKILL loses at most the last flush interval.
 */
@Injectable()
export class UsageRecorder implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Usage');
  private pending = new Map<string, UsageRow>();
  private keysUsed = new Map<string, Date>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly usage: UsageRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), this.config.usage.flushMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  record(chat: ChatUsage, at = Date.now()): void {
    const row = this.rowAt(chat.instanceId, chat.keyId ?? '', at);
    row.requests++;
    if (chat.failed) row.errors++;
    row.promptTokens += chat.promptTokens;
    row.completionTokens += chat.completionTokens;
    if (chat.firstChunkMs !== null) {
      row.ttftMsSum += chat.firstChunkMs;
      row.ttftCount++;
    }
    if (chat.keyId) this.keysUsed.set(chat.keyId, new Date(at));
  }

  /** A chat refused before it reached a host: counted by status, apart from `requests`. */
  refused(instanceId: string, keyId: string | null, status: RefusedStatus, at = Date.now()): void {
    this.rowAt(instanceId, keyId ?? '', at).refused[status]++;
  }

  /** Tokens of a key today (UTC): what is written plus what this node has not written yet. */
  async tokensToday(keyId: string): Promise<number> {
    const now = new Date();
    const dayStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    let pending = 0;
    for (const row of this.pending.values())
      if (row.keyId === keyId && row.minute.getTime() >= dayStart)
        pending += row.promptTokens + row.completionTokens;
    return (await this.usage.tokensSince(keyId, new Date(dayStart))) + pending;
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0 && this.keysUsed.size === 0) return;
    const rows = [...this.pending.values()];
    const keysUsed = this.keysUsed;
    this.pending = new Map();
    this.keysUsed = new Map();
    try {
      await this.usage.add(rows);
    } catch (error) {
      this.logger.warn(`could not record usage of ${rows.length} minute(s): ${(error as Error).message}`);
      // Kept for the next flush, merged with what came meanwhile.
      for (const row of rows) this.merge(row);
    }
    await this.usage.markKeysUsed(keysUsed).catch((error: Error) => {
      this.logger.warn(`could not record the last use of ${keysUsed.size} key(s): ${error.message}`);
    });
  }

  private rowAt(instanceId: string, keyId: string, at: number): UsageRow {
    const minute = at - (at % MINUTE_MS);
    const id = `${instanceId}\n${keyId}\n${minute}`;
    let row = this.pending.get(id);
    if (!row) {
      row = {
        instanceId,
        keyId,
        minute: new Date(minute),
        requests: 0,
        errors: 0,
        promptTokens: 0,
        completionTokens: 0,
        ttftMsSum: 0,
        ttftCount: 0,
        refused: noRefusals(),
      };
      this.pending.set(id, row);
    }
    return row;
  }

  private merge(row: UsageRow): void {
    const id = `${row.instanceId}\n${row.keyId}\n${row.minute.getTime()}`;
    const current = this.pending.get(id);
    if (!current) return void this.pending.set(id, row);
    current.requests += row.requests;
    current.errors += row.errors;
    current.promptTokens += row.promptTokens;
    current.completionTokens += row.completionTokens;
    current.ttftMsSum += row.ttftMsSum;
    current.ttftCount += row.ttftCount;
    for (const status of REFUSED_STATUSES) current.refused[status] += row.refused[status];
  }
}
