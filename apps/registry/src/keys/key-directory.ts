import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { hashAccessKey } from './access-key';
import { KeysRepository } from './keys.repository';

/** What a chat needs to know about a key; `null` models = any model. */
export interface KnownKey {
  id: string;
  instanceId: string;
  models: ReadonlySet<string> | null;
  firstModel: string | null;
  rpm: number | null;
  maxConcurrent: number | null;
  tokensPerDay: number | null;
  expiresAt: number | null;
  revoked: boolean;
}

interface Cached {
  key: KnownKey | null;
  until: number;
}

/** Entries kept at most: a flood of made-up keys must not grow the node's memory without bound. */
const MAX_ENTRIES = 100_000;

/**
 * Keys by the hex SHA-256 of the secret: after the first use on a node a key check is a hash and
 * a Map lookup. A revocation removes the entry on every node at once (AccessChanges); the
 * KEY_CACHE_MS expiry is the safety net for a broadcast that was lost.
 */
@Injectable()
export class KeyDirectory {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly keys: KeysRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The key behind a secret (null: no such key), from the cache when it is fresh. */
  async lookup(secret: string): Promise<KnownKey | null> {
    const hash = hashAccessKey(secret);
    const id = Buffer.from(hash).toString('hex');
    const now = Date.now();
    const cached = this.cache.get(id);
    if (cached && cached.until > now) return cached.key;
    const record = await this.keys.findByHash(hash);
    const models = Array.isArray(record?.models)
      ? record.models.filter((m): m is string => typeof m === 'string')
      : null;
    const key: KnownKey | null = record && {
      id: record.id,
      instanceId: record.instanceId,
      models: models && new Set(models),
      firstModel: models?.[0] ?? null,
      rpm: record.rpm,
      maxConcurrent: record.maxConcurrent,
      tokensPerDay: record.tokensPerDay === null ? null : Number(record.tokensPerDay),
      expiresAt: record.expiresAt?.getTime() ?? null,
      revoked: record.revokedAt !== null,
    };
    if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
    this.cache.set(id, { key, until: now + this.config.keys.cacheMs });
    return key;
  }

  /** Drops the key with this hash (hex) from the cache: its next use reads the database. */
  forget(hashHex: string): void {
    this.cache.delete(hashHex);
  }

  /** After revocations may have been missed (the broadcast connection dropped). */
  clear(): void {
    this.cache.clear();
  }
}
