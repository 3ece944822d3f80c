import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { SingleFlight } from '../common/single-flight';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { InstanceEvents } from '../instances/instance-events';
import type { InstancePolicy, Visibility } from '@app/contracts';
import { asPolicy, asVisibility } from '../instances/instance-policy';
import { InstancesRepository } from '../instances/instances.repository';
import { publicModels } from '../instances/public-models';

export interface DirectoryEntry {
  exists: boolean;
  models: string[];
  visibility: Visibility;
  policy: InstancePolicy | null;
  /** Epoch ms a host of the instance was last known connected (null: never). */
  lastSeenAt: number | null;
  expires: number;
}

/**
 * Instance existence is read on every chat; this keeps it for a short time (CHAT_INSTANCE_CACHE_MS)
 * so a chat costs no database query, and forgets an instance at once when it is deleted here or its
 * visibility or policy changes (on any node: `accessChanged` is relayed between nodes). Other
 * nodes notice a deletion when their entry expires. The chats that find an entry missing or
 * expired at the same time share one read; a read that a forget overtook is not cached.
 */
@Injectable()
export class InstanceDirectory implements OnModuleInit, OnModuleDestroy {
  private readonly cache = new Map<string, DirectoryEntry>();
  private readonly reads = new SingleFlight<DirectoryEntry>();
  private unsubscribe?: () => void;

  constructor(
    private readonly instances: InstancesRepository,
    private readonly events: InstanceEvents,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const forget = ({ instanceId }: { instanceId: string }) => {
      this.cache.delete(instanceId);
      this.reads.forget(instanceId);
    };
    const off = [this.events.on('deleted', forget), this.events.on('accessChanged', forget)];
    this.unsubscribe = () => off.forEach((stop) => stop());
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  lookup(instanceId: string): Promise<DirectoryEntry> {
    const cached = this.cache.get(instanceId);
    if (cached && cached.expires > Date.now()) return Promise.resolve(cached);
    return this.reads.run(instanceId, () => this.read(instanceId), this.remember);
  }

  private async read(instanceId: string): Promise<DirectoryEntry> {
    const now = Date.now();
    const record = await this.instances.findActive(instanceId);
    return {
      exists: record !== null,
      models: publicModels(record),
      visibility: asVisibility(record?.visibility),
      policy: asPolicy(record?.policy),
      lastSeenAt: lastSeen(record?.lastHeartbeat, record?.lastWsCheck),
      expires: now + this.config.chat.instanceCacheMs,
    };
  }

  private readonly remember = (entry: DirectoryEntry, current: boolean, instanceId: string) => {
    if (!current) return;
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(instanceId, entry);
  };
}

const lastSeen = (...times: Array<Date | null | undefined>): number | null => {
  const known = times.filter((t): t is Date => t instanceof Date).map((t) => t.getTime());
  return known.length ? Math.max(...known) : null;
};
