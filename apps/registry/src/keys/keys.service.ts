import { Inject, Injectable } from '@nestjs/common';
import type { AccessKey, IssuedKey, KeyPage } from '@app/contracts';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ApiError, invalidField } from '../common/http-errors';
import type { InstanceRecord } from '../instances/instances.repository';
import { AccessChanges } from './access-changes';
import { issueAccessKey, newKeyId } from './access-key';
import { CreateKeyDto } from './dto/create-key.dto';
import { CREATION_WINDOW_MS, keyCreationRefusal } from './key-allowance';
import { AccessKeyRecord, KeysRepository } from './keys.repository';

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** What the owner sees of a key: everything but the secret. */
function describeKey(record: AccessKeyRecord): AccessKey {
  return {
    key_id: record.id,
    name: record.name,
    prefix: record.prefix,
    rpm: record.rpm,
    max_concurrent: record.maxConcurrent,
    tokens_per_day: record.tokensPerDay === null ? null : Number(record.tokensPerDay),
    // Written only from the validated list of CreateKeyDto (or left NULL).
    models: record.models as string[] | null,
    // Written only from the validated list of CreateKeyDto (or left NULL).
    endpoints: record.endpoints as string[] | null,
    created_at: record.createdAt.toISOString(),
    last_used_at: iso(record.lastUsedAt),
    expires_at: iso(record.expiresAt),
    revoked: record.revokedAt !== null,
    revoked_at: iso(record.revokedAt),
  };
}

/** The owner's key management: issue (the secret is shown once), list a page, revoke. */
@Injectable()
export class KeysService {
  constructor(
    private readonly keys: KeysRepository,
    private readonly changes: AccessChanges,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(owner: InstanceRecord, dto: CreateKeyDto): Promise<IssuedKey> {
    const expiresAt = dto.expires_at === undefined ? null : new Date(dto.expires_at);
    if (expiresAt && expiresAt.getTime() <= Date.now())
      throw invalidField('expires_at', 'expires_at must be in the future');
    const issued = issueAccessKey();
    const now = new Date();
    const record = await this.keys.create(
      {
        id: newKeyId(),
        instanceId: owner.id,
        name: dto.name,
        prefix: issued.prefix,
        hash: issued.hash,
        rpm: dto.rpm ?? null,
        maxConcurrent: dto.max_concurrent ?? null,
        tokensPerDay: dto.tokens_per_day === undefined ? null : BigInt(dto.tokens_per_day),
        models: dto.models ?? undefined,
        endpoints: dto.endpoints ?? undefined,
        expiresAt,
        createdAt: now,
      },
      new Date(now.getTime() - CREATION_WINDOW_MS),
      (counts) => {
        const refusal = keyCreationRefusal(counts, this.config.keys, now.getTime());
        if (refusal) throw refusal;
      },
    );
    return { ...describeKey(record), key: issued.key };
  }

  async list(owner: InstanceRecord, pageNo: number, pageSize: number): Promise<KeyPage> {
    const [rows, total] = await this.keys.list(owner.id, (pageNo - 1) * pageSize, pageSize);
    return {
      items: rows.map(describeKey),
      pagination: { page_no: pageNo, page_size: pageSize, total, total_pages: Math.ceil(total / pageSize) },
    };
  }

  async revoke(owner: InstanceRecord, keyId: string): Promise<AccessKey> {
    const found = await this.keys.find(owner.id, keyId);
    if (!found) throw new ApiError(404, `key '${keyId}' not found`, { code: 'key_not_found' });
    const record = await this.keys.revoke(keyId, new Date());
    this.changes.keyRevoked(Buffer.from(record.hash).toString('hex'));
    return describeKey(record);
  }
}
