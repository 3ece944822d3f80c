import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ChatRequestBody } from '@app/protocol';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ApiError } from '../common/http-errors';
import type { Visibility } from '@app/contracts';
import { LimitsService } from '../limits/limits.service';
import { presentedKey } from './access-key';
import { KeyCounters, utcDay } from './key-counters';
import { KeyDirectory, KnownKey } from './key-directory';
import { TokenBudgets } from './token-budgets';
import { estimatePromptTokens } from './token-estimate';
import type { TokenMeter, TokenUsage } from './token-meter';

const invalidKey = (message: string) => new ApiError(401, message, { code: 'invalid_api_key' });
const tooMany = (message: string, waitMs: number) =>
  new ApiError(429, message, {
    code: 'rate_limit_exceeded',
    headers: { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) },
  });

/** What an admitted chat of a key with limits carries to its end. */
export interface KeyAdmission {
  /** Meters the answer against the key's tokens_per_day (null: the key has none). */
  meter: TokenMeter | null;
  /** The chat ended: frees its concurrency slot and returns what it is charged (the model's usage, or the meter's estimate). */
  finished(usage: TokenUsage): TokenUsage;
  /** The chat was refused after admission: frees what admission took, charges nothing. */
  cancel(): void;
}

/**
 * Who is calling an instance: on a private one an access key is required (401 without a valid
 * one); on a public one a key of the instance is optional and brings its limits (revoked or
 * expired: 401), anything else in `Authorization` (an SDK's placeholder, someone's OpenAI key,
 * another instance's key) is ignored as before.
 */
@Injectable()
export class ChatAccess {
  private readonly logger = new Logger('ChatAccess');

  constructor(
    private readonly keys: KeyDirectory,
    private readonly counters: KeyCounters,
    private readonly budgets: TokenBudgets,
    private readonly limits: LimitsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The caller's key (null: none) or a 401; public instances without a key cost a header check only. */
  async identify(
    instanceId: string,
    visibility: Visibility,
    authorization: string | undefined,
    ip: string,
  ): Promise<KnownKey | null> {
    const secret = presentedKey(authorization);
    const isPrivate = visibility === 'private';
    if (secret === null) {
      if (!isPrivate) return null;
      throw invalidKey(
        `instance '${instanceId}' is private: send one of its access keys as 'Authorization: Bearer sk-…'`,
      );
    }
    const key = await this.keys.lookup(secret);
    if (!key || key.instanceId !== instanceId) {
      // Not this instance's key: on a public one it may be an SDK's placeholder, so it is ignored.
      if (!isPrivate) return null;
      // Guessing keys counts like guessing passwords.
      throw this.limits.authFailed(ip, instanceId) ?? invalidKey('invalid access key');
    }
    // This instance's key, but dead: never anonymous, or it would escape its own limits.
    if (key.revoked) throw invalidKey('this access key was revoked');
    if (key.expiresAt !== null && key.expiresAt <= Date.now())
      throw invalidKey('this access key has expired');
    return key;
  }

  /**
   * Applies the key's limits for the whole cluster just before a chat is routed: 429 with
   * Retry-After when over one. Null when the key has neither tokens_per_day nor max_concurrent.
   */
  async admit(key: KnownKey, requestId: string, hostBody: ChatRequestBody): Promise<KeyAdmission | null> {
    let meter: TokenMeter | null = null;
    let slot = false;
    try {
      if (key.tokensPerDay !== null) {
        const prompt = estimatePromptTokens(hostBody.messages);
        const opened = await this.budgets.open(key.id, key.tokensPerDay, prompt);
        if (opened === 'spent')
          throw tooMany(
            `this access key used its ${key.tokensPerDay} tokens for today (UTC)`,
            utcDay().endsInMs,
          );
        if (opened === 'too_few_left')
          throw tooMany(
            `this request's prompt (about ${prompt} tokens) needs more than is left of this access key's ${key.tokensPerDay} tokens for today (UTC)`,
            utcDay().endsInMs,
          );
        meter = opened;
      }
      if (key.rpm !== null) {
        const waitMs = await this.counters.hitRpm(key.id, key.rpm);
        if (waitMs > 0) throw tooMany(`this access key is limited to ${key.rpm} requests per minute`, waitMs);
      }
      if (key.maxConcurrent !== null) {
        // A slot a dead node never released is freed once no chat could still be running.
        const ttlMs = this.config.chat.totalTimeoutMs + 60_000;
        if (!(await this.counters.acquire(key.id, requestId, key.maxConcurrent, ttlMs)))
          throw tooMany(`this access key is limited to ${key.maxConcurrent} chats at once`, 1_000);
        slot = true;
      }
    } catch (err) {
      meter?.cancel();
      if (err instanceof ApiError) throw err;
      // Redis unreachable: the limits cannot be known, which is a 503, not a free pass.
      throw new ApiError(503, 'the registry cannot check this key’s limits right now; retry', {
        code: 'cluster_unavailable',
        headers: { 'retry-after': '2' },
      });
    }
    if (meter === null && !slot) return null;
    const release = () => {
      if (!slot) return;
      this.counters
        .release(key.id, requestId)
        .catch((err: Error) => this.logger.warn(`could not release a slot of key ${key.id}: ${err.message}`));
    };
    return {
      meter,
      finished: (usage) => {
        release();
        return meter ? meter.settle(usage) : usage;
      },
      cancel: () => {
        release();
        meter?.cancel();
      },
    };
  }
}
