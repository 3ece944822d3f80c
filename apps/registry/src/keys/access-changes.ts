import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { REDIS } from '../cluster/cluster.module';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { InstanceEvents } from '../instances/instance-events';
import { subscribeBroadcast } from '../redis/broadcast-channel';
import type { RedisConnections } from '../redis/redis-connections';
import { KeyDirectory } from './key-directory';

/** A change every node must apply to its caches at once. */
type AccessChange = { from: string } & (
  { kind: 'key_revoked'; hash: string } | { kind: 'instance_changed'; instanceId: string }
);

/**
 * Broadcasts key revocations and visibility/policy changes to every node (one Redis channel all
 * nodes subscribe to: `<prefix>:access`), so a revoked key stops working everywhere within
 * milliseconds. A node whose subscription dropped forgets every cached key when it is back (it
 * may have missed revocations); KEY_CACHE_MS bounds what a lost message can cost. Embedded
 * mode has one node, where the local invalidation is all there is to do.
 */
@Injectable()
export class AccessChanges implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('AccessChanges');
  private readonly channel: string;
  private stop: Array<() => void> = [];

  constructor(
    @Inject(REDIS) private readonly redis: RedisConnections | null,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly keys: KeyDirectory,
    private readonly events: InstanceEvents,
  ) {
    this.channel = `${config.redisPrefix}:access`;
  }

  async onModuleInit(): Promise<void> {
    this.stop.push(
      this.events.on('accessChanged', ({ instanceId, relayed }) => {
        if (!relayed) this.publish({ kind: 'instance_changed', instanceId, from: this.config.nodeId });
      }),
    );
    const subscriber = this.redis?.subscriber;
    if (!subscriber) return;
    // Back after a drop: it may have missed revocations, so every cached key is forgotten.
    this.stop.push(
      await subscribeBroadcast(
        subscriber,
        this.channel,
        (payload) => this.apply(payload),
        this.logger,
        () => this.keys.clear(),
      ),
    );
  }

  onModuleDestroy(): void {
    for (const stop of this.stop) stop();
    this.stop = [];
  }

  keyRevoked(hashHex: string): void {
    this.keys.forget(hashHex);
    this.publish({ kind: 'key_revoked', hash: hashHex, from: this.config.nodeId });
  }

  private publish(change: AccessChange): void {
    this.redis?.publisher.publish(this.channel, JSON.stringify(change)).catch((err: Error) => {
      // Nodes that missed it fall back on their cache expiry (KEY_CACHE_MS, CHAT_INSTANCE_CACHE_MS).
      this.logger.warn(`could not broadcast ${change.kind}: ${err.message}`);
    });
  }

  private apply(payload: string): void {
    let change: Partial<AccessChange>;
    try {
      change = JSON.parse(payload) as Partial<AccessChange>;
    } catch {
      return;
    }
    if (change.from === this.config.nodeId) return;
    if (change.kind === 'key_revoked' && typeof change.hash === 'string') this.keys.forget(change.hash);
    if (change.kind === 'instance_changed' && typeof change.instanceId === 'string')
      this.events.emit('accessChanged', { instanceId: change.instanceId, relayed: true });
  }
}
