import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ApiError, invalidField } from '../common/http-errors';
import { Caller, InstanceAuthService } from '../instances/instance-auth.service';
import { AccessChanges } from './access-changes';
import { issueAccessKey, newKeyId } from './access-key';
import { CreateKeyDto } from './dto/create-key.dto';
import { AccessKeyRecord, KeysRepository } from './keys.repository';

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** What the owner sees of a key: everything but the secret. */
function describeKey(record: AccessKeyRecord) {
  return {
    key_id: record.id,
    name: record.name,
    prefix: record.prefix,
    rpm: record.rpm,
    max_concurrent: record.maxConcurrent,
    tokens_per_day: record.tokensPerDay === null ? null : Number(record.tokensPerDay),
    models: record.models,
    created_at: iso(record.createdAt),
    last_used_at: iso(record.lastUsedAt),
    expires_at: iso(record.expiresAt),
    revoked: record.revokedAt !== null,
    revoked_at: iso(record.revokedAt),
  };
}

/** The owner's key management: issue (the secret is shown once), list, revoke. */
@Injectable()
export class KeysService {
  constructor(
    private readonly keys: KeysRepository,
    private readonly auth: InstanceAuthService,
    private readonly changes: AccessChanges,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(instanceId: string, caller: Caller, dto: CreateKeyDto) {
    await this.auth.authenticate(caller, instanceId);
    const expiresAt = dto.expires_at === undefined ? null : new Date(dto.expires_at);
    if (expiresAt && expiresAt.getTime() <= Date.now())
      throw invalidField('expires_at', 'expires_at must be in the future');
    if ((await this.keys.countActive(instanceId)) >= this.config.keys.maxPerInstance)
      throw new ApiError(
        409,
        `an instance may have at most ${this.config.keys.maxPerInstance} keys that are not revoked; revoke one first`,
        { code: 'too_many_keys' },
      );
    const issued = issueAccessKey();
    const record = await this.keys.create({
      id: newKeyId(),
      instanceId,
      name: dto.name,
      prefix: issued.prefix,
      hash: issued.hash,
      rpm: dto.rpm ?? null,
      maxConcurrent: dto.max_concurrent ?? null,
      tokensPerDay: dto.tokens_per_day === undefined ? null : BigInt(dto.tokens_per_day),
      models: dto.models ?? undefined,
      expiresAt,
    });
    return { ...describeKey(record), key: issued.key };
  }

  async list(instanceId: string, caller: Caller) {
    await this.auth.authenticate(caller, instanceId);
    return { items: (await this.keys.list(instanceId)).map(describeKey) };
  }

  async revoke(instanceId: string, keyId: string, caller: Caller) {
    await this.auth.authenticate(caller, instanceId);
    const found = await this.keys.find(instanceId, keyId);
    if (!found) throw new ApiError(404, `key '${keyId}' not found`, { code: 'key_not_found' });
    const record = await this.keys.revoke(keyId, new Date());
    this.changes.keyRevoked(Buffer.from(record.hash).toString('hex'));
    return describeKey(record);
  }
}
