import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { ClusterBus } from '../cluster/cluster-bus';
import { LiveNodes } from '../cluster/live-nodes';
import { APP_CONFIG, AppConfig, isDistributed } from '../config/app-config';
import { ConnectedHosts } from '../hosts/connected-hosts';
import type { HostConnection } from '../hosts/host-connection';
import { isModelStatus, type ModelStatus } from '@app/protocol';
import { replicaSlot } from '../contracts/replica-slot';
import { ReplicaTable, ReplicaUpdate } from './replica-table';

/** Load changes of one node are sent at most this often (connects and disconnects at once). */
export const LOAD_GOSSIP_MS = 50;

/**
 * On the wire: `{ from, u: [[instanceId, replica, epoch, capacity, inFlight, state], ...], m: [...] }`;
 * `m[i]` is the model status of `u[i]`'s replica (null: unknown). A separate list, so nodes that
 * predate it (which check each update's length) still read `u`.
 */
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
 * The load gossip: every node broadcasts what changes about the replicas it holds (connected, chats
 * in flight, draining, model status, gone) to the others (the bus's `replicas` topic), so any node can route a
 * chat by load without asking Redis per chat. Connects and disconnects go out at once, load at
 * most every LOAD_GOSSIP_MS, only what changed (idle hosts cost nothing). The replicas of a node
 * that died leave the table as soon as LiveNodes sees it dead. Embedded mode has one node and
 * nothing to tell.
 */
@Injectable()
export class ReplicaGossip implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('ReplicaGossip');
  private readonly dirty = new Map<string, HostConnection>();
  private flushTimer?: NodeJS.Timeout;
  private flushSoon = false;
  private readonly gainedListeners: Array<(instanceId: string) => void> = [];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly hosts: ConnectedHosts,
    private readonly table: ReplicaTable,
    private readonly bus: ClusterBus,
    private readonly live: LiveNodes,
  ) {}

  /** Called when gossip says an instance gained a routable replica on another node. */
  onGained(listener: (instanceId: string) => void): void {
    this.gainedListeners.push(listener);
  }

  onModuleInit(): void {
    if (!isDistributed(this.config)) return;
    this.hosts.onChange((connection, change) => this.changed(connection, change !== 'load'));
    this.bus.onBroadcast('replicas', (message, from) => this.receive(message, from));
    this.live.onChange(() => void this.dropDeadNodes());
  }

  onModuleDestroy(): void {
    clearTimeout(this.flushTimer);
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
    const m: Array<ModelStatus | null> = [];
    for (const c of this.dirty.values()) {
      const state = !c.isServing ? 2 : c.draining ? 1 : 0;
      u.push([c.instanceId, c.replica, c.epoch, c.capacity, c.load, state]);
      m.push(c.modelStatus);
    }
    this.dirty.clear();
    this.bus.broadcast('replicas', { u, m }).catch((err: Error) => {
      // Other nodes route less well until they re-read presence; no chat fails for it.
      this.logger.warn(`could not publish replica load: ${err.message}`);
    });
  }

  private receive(message: Readonly<Record<string, unknown>>, from: string): void {
    if (!Array.isArray(message.u)) return;
    const models = Array.isArray(message.m) && message.m.length === message.u.length ? message.m : null;
    const updates: ReplicaUpdate[] = [];
    for (const [i, w] of (message.u as unknown[]).entries()) {
      if (!isWireUpdate(w)) continue;
      const [instanceId, replica, epoch, capacity, inFlight, state] = w;
      const slot = replicaSlot(instanceId, replica);
      const said: unknown = models?.[i];
      const modelStatus = isModelStatus(said) ? said : said === null ? null : undefined;
      updates.push({ instanceId, replica, slot, epoch, capacity, inFlight, state, modelStatus });
    }
    for (const instanceId of this.table.apply(from, updates))
      for (const listener of this.gainedListeners) listener(instanceId);
  }

  /** Replicas on a node that stopped listening (killed) leave routing as soon as LiveNodes sees it. */
  private async dropDeadNodes(): Promise<void> {
    for (const nodeId of this.table.nodes()) {
      if (await this.live.isAlive(nodeId).catch(() => true)) continue;
      this.logger.log(`node ${nodeId} is gone; its replicas leave routing`);
      this.table.dropNode(nodeId);
    }
  }
}
