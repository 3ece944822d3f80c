import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { InstanceEvents } from '../instances/instance-events';
import { InstancesRepository } from '../instances/instances.repository';

interface Entry {
  exists: boolean;
  models: string[];
  expires: number;
}

/**
 * Instance existence is read on every chat; this keeps it for a short time (CHAT_INSTANCE_CACHE_MS)
 * so a chat costs no database query, and forgets an instance at once when this node deletes it.
 * Other nodes notice a deletion when their entry expires.
 */
@Injectable()
export class InstanceDirectory implements OnModuleInit, OnModuleDestroy {
  private readonly cache = new Map<string, Entry>();
  private unsubscribe?: () => void;

  constructor(
    private readonly instances: InstancesRepository,
    private readonly events: InstanceEvents,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.events.on('deleted', ({ instanceId }) => this.cache.delete(instanceId));
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  async lookup(instanceId: string): Promise<Entry> {
    const now = Date.now();
    const cached = this.cache.get(instanceId);
    if (cached && cached.expires > now) return cached;
    const record = await this.instances.findActive(instanceId);
    const config = (record?.config ?? {}) as Record<string, unknown>;
    const entry: Entry = {
      exists: record !== null,
      models: [
        ...(Array.isArray(record?.hostModels)
          ? record.hostModels.filter((m): m is string => typeof m === 'string')
          : []),
        ...(typeof config.model_name === 'string' ? [config.model_name] : []),
      ],
      expires: now + this.config.chat.instanceCacheMs,
    };
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(instanceId, entry);
    return entry;
  }
}
