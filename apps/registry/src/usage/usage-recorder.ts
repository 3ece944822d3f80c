import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { UsageEndpoint } from '@app/contracts';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { BatchWriter } from '../common/batch-writer';
import { noRefusals, REFUSED_STATUSES, RefusedStatus, UsageRepository, UsageRow } from './usage.repository';

/** What one finished chat (or relayed request) adds to its minute. */
export interface ChatUsage {
  instanceId: string;
  /** null: no key. */
  keyId: string | null;
  endpoint: UsageEndpoint;
  failed: boolean;
  promptTokens: number;
  completionTokens: number;
  firstChunkMs: number | null;
}

const MINUTE_MS = 60_000;

/** Adds `later` into `earlier` (the same instance, key, endpoint and minute). */
function addUp(earlier: UsageRow, later: UsageRow): UsageRow {
  earlier.requests += later.requests;
  earlier.errors += later.errors;
  earlier.promptTokens += later.promptTokens;
  earlier.completionTokens += later.completionTokens;
  earlier.ttftMsSum += later.ttftMsSum;
  earlier.ttftCount += later.ttftCount;
  for (const status of REFUSED_STATUSES) earlier.refused[status] += later.refused[status];
  return earlier;
}

/**
 * Adds chats up in memory per (instance, key, endpoint, minute) and writes them every USAGE_FLUSH_MS in one
 * batched upsert (plus one UPDATE of the keys' last use): no database write per chat. On SIGTERM
 * the rest is written; a SIGKILL loses at most the last flush interval.
 */
@Injectable()
export class UsageRecorder implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Usage');
  private readonly rows = new BatchWriter<string, UsageRow>({
    merge: addUp,
    write: (batch) => this.usage.add([...batch.values()]),
    failed: (error, batch) =>
      this.logger.warn(`could not record usage of ${batch.size} minute(s): ${error.message}`),
  });
  private readonly keysUsed = new BatchWriter<string, Date>({
    merge: (_earlier, later) => later,
    write: (batch) => this.usage.markKeysUsed(batch),
    failed: (error, batch) =>
      this.logger.warn(`could not record the last use of ${batch.size} key(s): ${error.message}`),
  });

  constructor(
    private readonly usage: UsageRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.rows.start(this.config.usage.flushMs);
    this.keysUsed.start(this.config.usage.flushMs);
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([this.rows.stop(), this.keysUsed.stop()]);
  }

  record(chat: ChatUsage, at = Date.now()): void {
    this.add(chat.instanceId, chat.keyId ?? '', chat.endpoint, at, {
      requests: 1,
      errors: chat.failed ? 1 : 0,
      promptTokens: chat.promptTokens,
      completionTokens: chat.completionTokens,
      ttftMsSum: chat.firstChunkMs ?? 0,
      ttftCount: chat.firstChunkMs === null ? 0 : 1,
    });
    if (chat.keyId) this.keysUsed.add(chat.keyId, new Date(at));
  }

  /** A chat refused before it reached a host: counted by status, apart from `requests`. */
  refused(
    instanceId: string,
    keyId: string | null,
    endpoint: UsageEndpoint,
    status: RefusedStatus,
    at = Date.now(),
  ): void {
    const refused = noRefusals();
    refused[status] = 1;
    this.add(instanceId, keyId ?? '', endpoint, at, { refused });
  }

  private add(
    instanceId: string,
    keyId: string,
    endpoint: UsageEndpoint,
    at: number,
    counts: Partial<UsageRow>,
  ): void {
    const minute = at - (at % MINUTE_MS);
    this.rows.add(`${instanceId}\n${keyId}\n${endpoint}\n${minute}`, {
      instanceId,
      keyId,
      minute: new Date(minute),
      endpoint,
      requests: 0,
      errors: 0,
      promptTokens: 0,
      completionTokens: 0,
      ttftMsSum: 0,
      ttftCount: 0,
      refused: noRefusals(),
      ...counts,
    });
  }

  /** Tokens of a key today (UTC): what is written plus what this node has not written yet. */
  async tokensToday(keyId: string): Promise<number> {
    const now = new Date();
    const dayStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    let pending = 0;
    for (const row of this.rows.values())
      if (row.keyId === keyId && row.minute.getTime() >= dayStart)
        pending += row.promptTokens + row.completionTokens;
    return (await this.usage.tokensSince(keyId, new Date(dayStart))) + pending;
  }

  async flush(): Promise<void> {
    await Promise.all([this.rows.flush(), this.keysUsed.flush()]);
  }
}
