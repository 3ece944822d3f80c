import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { ClusterBus } from '../cluster/cluster-bus';
import { InstanceEvents } from '../instances/instance-events';
import { KeyDirectory } from './key-directory';

/** A change every node must apply to its caches at once. */
type AccessChange = { kind: 'key_revoked'; hash: string } | { kind: 'instance_changed'; instanceId: string };

/**
 * Broadcasts key revocations and visibility/policy changes to every other node (the bus's
 * `access` topic), so a revoked key stops working everywhere within milliseconds. A node whose
 * subscription dropped forgets every cached key when it is back (it may have missed
 * revocations); KEY_CACHE_MS bounds what a lost message can cost. Embedded mode has one node,
 * where the local invalidation is all there is to do.
 */
@Injectable()
export class AccessChanges implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('AccessChanges');
  private stop: Array<() => void> = [];

  constructor(
    private readonly bus: ClusterBus,
    private readonly keys: KeyDirectory,
    private readonly events: InstanceEvents,
  ) {}

  onModuleInit(): void {
    this.stop.push(
      this.events.on('accessChanged', ({ instanceId, relayed }) => {
        if (!relayed) this.publish({ kind: 'instance_changed', instanceId });
      }),
    );
    this.bus.onBroadcast('access', (change) => this.apply(change));
    this.bus.onBroadcastGap(() => this.keys.clear());
  }

  onModuleDestroy(): void {
    for (const stop of this.stop) stop();
    this.stop = [];
  }

  keyRevoked(hashHex: string): void {
    this.keys.forget(hashHex);
    this.publish({ kind: 'key_revoked', hash: hashHex });
  }

  private publish(change: AccessChange): void {
    this.bus.broadcast('access', change).catch((err: Error) => {
      // Nodes that missed it fall back on their cache expiry (KEY_CACHE_MS, CHAT_INSTANCE_CACHE_MS).
      this.logger.warn(`could not broadcast ${change.kind}: ${err.message}`);
    });
  }

  private apply(change: Readonly<Record<string, unknown>>): void {
    if (change.kind === 'key_revoked' && typeof change.hash === 'string') this.keys.forget(change.hash);
    if (change.kind === 'instance_changed' && typeof change.instanceId === 'string')
      this.events.emit('accessChanged', { instanceId: change.instanceId, relayed: true });
  }
}
