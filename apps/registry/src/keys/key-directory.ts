import { Inject, Injectable } from '@nestjs/common';
import { SingleFlight } from '../common/single-flight';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { accessKeyId } from './access-key';
import { ChatKeyRecord, KeysRepository } from './keys.repository';

/** What a chat needs to know about a key; `null` models = any model. */
export interface KnownKey {
  id: string;
  instanceId: string;
  models: ReadonlySet<string> | null;
  firstModel: string | null;
  /** Endpoints it may call (`chat`, `embeddings`, ...); null = all. */
  endpoints: ReadonlySet<string> | null;
  rpm: number | null;
  maxConcurrent: number | null;
  tokensPerDay: number | null;
  expiresAt: number | null;
  revoked: boolean;
}

interface Cached {
  key: KnownKey | null;
  until: number;
  bytes: number;
}

/**
 * Heap the cache may hold, estimated per entry: a flood of made-up keys, or keys with long model
 * lists, must not grow the node's memory without bound. Measured (node --expose-gc, Node 20): an
 * entry costs ~420 B, each model its name plus ~45 B, so 32 MiB holds ~75,000 keys without models
 * or ~1,900 with the largest list a key may have (16 KiB).
 */
export const KEY_CACHE_MAX_BYTES = 32 * 1024 * 1024;
const ENTRY_BYTES = 450;
const MODEL_BYTES = 48;

const weigh = (key: KnownKey | null) => {
  let bytes = ENTRY_BYTES;
  if (key?.models) for (const model of key.models) bytes += model.length + MODEL_BYTES;
  return bytes;
};

function knownKey(record: ChatKeyRecord): KnownKey {
  const models = Array.isArray(record.models)
    ? record.models.filter((m): m is string => typeof m === 'string')
    : null;
  return {
    id: record.id,
    instanceId: record.instanceId,
    models: models && new Set(models),
    firstModel: models?.[0] ?? null,
    endpoints: Array.isArray(record.endpoints)
      ? new Set(record.endpoints.filter((e): e is string => typeof e === 'string'))
      : null,
    rpm: record.rpm,
    maxConcurrent: record.maxConcurrent,
    tokensPerDay: record.tokensPerDay === null ? null : Number(record.tokensPerDay),
    expiresAt: record.expiresAt?.getTime() ?? null,
    revoked: record.revokedAt !== null,
  };
}

/**
 * Keys by the hex SHA-256 of the secret: after the first use on a node a key check is a hash and
 * a Map lookup. A revocation removes the entry on every node at once (AccessChanges); the
 * KEY_CACHE_MS expiry is the safety net for a broadcast that was lost. Past KEY_CACHE_MAX_BYTES the
 * oldest entries go first. Lookups of one key that miss the cache at the same time share one read.
 */
@Injectable()
export class KeyDirectory {
  private readonly cache = new Map<string, Cached>();
  private readonly reads = new SingleFlight<KnownKey | null>();
  private bytes = 0;
  /** Bumped by every forget/clear: a database read that started before may hold a key since revoked. */
  private generation = 0;

  constructor(
    private readonly keys: KeysRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Estimated heap the cached keys take (what KEY_CACHE_MAX_BYTES bounds). */
  get cachedBytes(): number {
    return this.bytes;
  }

  /** The key behind a secret (null: no such key), from the cache when it is fresh. */
  async lookup(secret: string): Promise<KnownKey | null> {
    const id = accessKeyId(secret);
    const now = Date.now();
    const cached = this.cache.get(id);
    if (cached && cached.until > now) return cached.key;
    return this.reads.run(id, () => this.read(id, now));
  }

  private async read(id: string, now: number): Promise<KnownKey | null> {
    const generation = this.generation;
    const record = await this.keys.findForChat(new Uint8Array(Buffer.from(id, 'hex')));
    const key = record && knownKey(record);
    // A revocation seen while reading: the row read may predate it, so it is not trusted for KEY_CACHE_MS.
    if (generation === this.generation) this.remember(id, key, now + this.config.keys.cacheMs);
    return key;
  }

  /** Drops the key with this hash (hex) from the cache: its next use reads the database. */
  forget(hashHex: string): void {
    this.generation++;
    this.reads.forget(hashHex);
    this.drop(hashHex);
  }

  /** After revocations may have been missed (the broadcast connection dropped). */
  clear(): void {
    this.generation++;
    this.reads.clear();
    this.cache.clear();
    this.bytes = 0;
  }

  private remember(id: string, key: KnownKey | null, until: number): void {
    this.drop(id);
    const bytes = weigh(key);
    for (const oldest of this.cache.keys()) {
      if (this.bytes + bytes <= KEY_CACHE_MAX_BYTES) break;
      this.drop(oldest);
    }
    this.cache.set(id, { key, until, bytes });
    this.bytes += bytes;
  }

  private drop(id: string): void {
    const cached = this.cache.get(id);
    if (!cached) return;
    this.cache.delete(id);
    this.bytes -= cached.bytes;
  }
}
