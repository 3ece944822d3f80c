import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { ClusterBus } from '../cluster/cluster-bus';
import { REDIS } from '../cluster/cluster.module';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { replicaSlot } from '../contracts/replica-slot';
import { ConnectedHosts } from '../hosts/connected-hosts';
import type { HostConnection } from '../hosts/host-connection';
import { subscribeBroadcast } from '../redis/broadcast-channel';
import type { RedisConnections } from '../redis/redis-connections';
import { ReplicaTable, ReplicaUpdate } from './replica-table';

/** Load changes of one node are sent at most this often (connects and disconnects at once). */
export const LOAD_GOSSIP_MS = 50;
/** How often the nodes of known remote replicas are checked for liveness. */
const NODE_CHECK_MS = 1_000;

/** On the wire: `{ from, u: [[instanceId, replica, epoch, capacity, inFlight, state], ...] }`. */
type WireUpdate = [string, string, number, number, number, 0 | 1 | 2];

const isWireUpdate = (u: unknown): u is WireUpdate =>
  Array.isArray(u) &&
  u.length === 6 &&
  typeof u[0] === 'string' &&
  typeof u[1] === 'string' &&
  Number.isSafeInteger(u[2]) &&
  Number.isSafeInteger(u[3]) &&
  Number.isSafeInteger(u[4]) &&
  (u[5] === 0 || u[5] === 1 || u[5] === 2);

/**
 * The load gossip: every node publishes what changes about the replicas it holds (connected, chats
 * in flight, draining, gone) on one channel all nodes subscribe to (`<prefix>:replicas`), so any
 * node can route a chat by load without asking Redis per chat. Connects and disconnects go out at
 * once, load at most every LOAD_GOSSIP_MS, only what changed (idle hosts cost nothing). Embedded
 * mode has one node and nothing to tell.
 */
@Injectable()
export class ReplicaGossip implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('ReplicaGossip');
  private readonly channel: string;
  private readonly dirty = new Map<string, HostConnection>();
  private flushTimer?: NodeJS.Timeout;
  private flushSoon = false;
  private nodeTimer?: NodeJS.Timeout;
  private readonly gainedListeners: Array<(instanceId: string) => void> = [];
  private stop: Array<() => void> = [];

  constructor(
    @Inject(REDIS) private readonly redis: RedisConnections | null,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly hosts: ConnectedHosts,
    private readonly table: ReplicaTable,
    private readonly bus: ClusterBus,
  ) {
    this.channel = `${config.redisPrefix}:replicas`;
  }

  /** Called when gossip says an instance gained a routable replica on another node. */
  onGained(listener: (instanceId: string) => void): void {
    this.gainedListeners.push(listener);
  }

  async onModuleInit(): Promise<void> {
    const subscriber = this.redis?.subscriber;
    if (!subscriber) return;
    this.hosts.onChange((connection, change) => this.changed(connection, change !== 'load'));
    this.stop.push(
      await subscribeBroadcast(subscriber, this.channel, (payload) => this.receive(payload), this.logger),
    );
    this.nodeTimer = setInterval(() => void this.checkNodes(), NODE_CHECK_MS);
    this.nodeTimer.unref();
  }

  onModuleDestroy(): void {
    for (const stop of this.stop) stop();
    this.stop = [];
    clearTimeout(this.flushTimer);
    clearInterval(this.nodeTimer);
  }

  private changed(connection: HostConnection, urgent: boolean): void {
    this.dirty.set(connection.slot, connection);
    if (urgent && !this.flushSoon) {
      this.flushSoon = true;
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
      setImmediate(() => this.flush());
    } else if (!this.flushTimer && !this.flushSoon) {
      this.flushTimer = setTimeout(() => this.flush(), LOAD_GOSSIP_MS);
      this.flushTimer.unref();
    }
  }

  private flush(): void {
    this.flushSoon = false;
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.dirty.size === 0) return;
    const u: WireUpdate[] = [];
    for (const c of this.dirty.values()) {
      const state = !c.isServing ? 2 : c.draining ? 1 : 0;
      u.push([c.instanceId, c.replica, c.epoch, c.capacity, c.load, state]);
    }
    this.dirty.clear();
    this.redis?.publisher
      .publish(this.channel, JSON.stringify({ from: this.config.nodeId, u }))
      .catch((err: Error) => {
        // Other nodes route less well until they re-read presence; no chat fails for it.
        this.logger.warn(`could not publish replica load: ${err.message}`);
      });
  }

  private receive(payload: string): void {
    let message: { from?: unknown; u?: unknown };
    try {
      message = JSON.parse(payload) as typeof message;
    } catch {
      return;
    }
    const from = message.from;
    if (typeof from !== 'string' || from === this.config.nodeId || !Array.isArray(message.u)) return;
    const updates: ReplicaUpdate[] = [];
    for (const w of message.u as unknown[]) {
      if (!isWireUpdate(w)) continue;
      const [instanceId, replica, epoch, capacity, inFlight, state] = w;
      const slot = replicaSlot(instanceId, replica);
      updates.push({ instanceId, replica, slot, epoch, capacity, inFlight, state });
    }
    for (const instanceId of this.table.apply(from, updates))
      for (const listener of this.gainedListeners) listener(instanceId);
  }

  /** Replicas on a node that stopped listening (killed) leave routing within NODE_CHECK_MS. */
  private async checkNodes(): Promise<void> {
    for (const nodeId of this.table.nodes()) {
      if (await this.bus.isNodeAlive(nodeId).catch(() => true)) continue;
      this.logger.log(`node ${nodeId} is gone; its replicas leave routing`);
      this.table.dropNode(nodeId);
    }
  }
}
