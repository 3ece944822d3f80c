import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { CloseCodes } from '@app/protocol';
import { ClusterBus, type NodeRequestOf } from '../cluster/cluster-bus';
import { LiveNodes } from '../cluster/live-nodes';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { InstanceEvents } from '../instances/instance-events';
import { InstancesRepository } from '../instances/instances.repository';
import { HeldReplica, PresenceStore, ReplicaState, replicaSlot } from '../presence/presence.store';
import { HeartbeatRecorder } from './heartbeat-recorder';
import { HostConnection, HostSocketLimits } from './host-connection';
import { InstanceHolding } from './instance-holding';

/** How often this node's `instance_holders` rows are made exactly what it holds (repairs failed writes). */
const HOLDERS_RESYNC_MS = 60_000;

/** How a socket remembers the password it authenticated with: the stored hash, never the password. */
const closeReasons: Record<number, string> = {
  [CloseCodes.Unregistered]: 'instance unregistered',
  [CloseCodes.CredentialsRotated]: 'the instance password was changed; connect with the new one',
};

const credentialOf = (passwordHash: Uint8Array) => Buffer.from(passwordHash).toString('base64');

const SUPERSEDED = 'another connection of this replica took over';
const NONE: readonly HostConnection[] = [];

/** What changed about a replica this node holds: routing and the load gossip listen. */
export type ReplicaChange = 'up' | 'load' | 'down';

/**
 * The host sockets this node holds, and their presence in the cluster: claim on connect
 * (a newer connection of the same replica supersedes an older one anywhere; other replicas of the
 * instance stay), refresh while held, compare-and-delete on close, ping to drop dead peers.
 */
@Injectable()
export class ConnectedHosts implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ConnectedHosts.name);
  /** Serving connections by presence slot (`<id>` or `<id>/<replica>`). */
  private readonly connections = new Map<string, HostConnection>();
  /** The same connections by instance, for routing. */
  private readonly byInstance = new Map<string, HostConnection[]>();
  private readonly listeners: Array<(connection: HostConnection, change: ReplicaChange) => void> = [];
  /** Every open socket, including retired ones that are not in `connections` any more. */
  private readonly open = new Set<HostConnection>();
  /** Connections being accepted (database mark, presence claim) that are not in `connections` yet, by slot. */
  private readonly accepting = new Map<string, Promise<HostConnection>>();
  /** How many of them each instance has. */
  private readonly acceptingByInstance = new Map<string, Set<Promise<HostConnection>>>();
  /** The credential each socket authenticated with, so a rotation can close those holding an old one. */
  private readonly credentials = new WeakMap<HostConnection, string>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly socketLimits: HostSocketLimits;
  /** Frames dropped as malformed, over all sockets this node ever held. */
  malformedFrames = 0;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly presence: PresenceStore,
    private readonly bus: ClusterBus,
    private readonly instances: InstancesRepository,
    private readonly heartbeats: HeartbeatRecorder,
    private readonly events: InstanceEvents,
    private readonly holding: InstanceHolding,
    private readonly liveNodes: LiveNodes,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    const { maxSendBufferBytes, maxFramesPerSec, maxBytesPerSec, maxBadFrames } = config.ws;
    this.socketLimits = { maxSendBufferBytes, maxFramesPerSec, maxBytesPerSec, maxBadFrames };
  }

  async onModuleInit(): Promise<void> {
    // Rows an earlier run of this node id left (a crash, a restart with a fixed NODE_ID).
    await this.holding.purge(this.bus.nodeId);
    this.liveNodes.onForget((nodeId) => void this.holding.purge(nodeId));
    this.timers.push(setInterval(() => this.pingAll(), this.config.ws.pingIntervalMs));
    this.timers.push(setInterval(() => void this.refreshPresence(), this.config.presence.refreshMs));
    this.timers.push(
      setInterval(() => void this.holding.resync([...this.byInstance.keys()]), HOLDERS_RESYNC_MS),
    );
    for (const timer of this.timers) timer.unref();
    // Redis back (possibly empty after a restart): re-claim our hosts now, not at the next refresh.
    this.presence.onRestored(() => void this.refreshPresence());
    this.bus.handle('evict', (message) => this.handleEvict(message));
    this.unsubscribe.push(
      this.events.on('deleted', ({ instanceId }) => void this.evictDeleted(instanceId)),
      this.events.on(
        'rotated',
        ({ instanceId, passwordHash }) =>
          void this.evictRotated(instanceId, passwordHash).catch((error: Error) =>
            this.logger.warn(`could not evict old connections of ${instanceId}: ${error.message}`),
          ),
      ),
    );
  }

  async onModuleDestroy(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    for (const unsubscribe of this.unsubscribe) unsubscribe();
    await Promise.all(
      [...this.connections.values()].map((c) =>
        this.closeAndRelease(c, CloseCodes.GoingAway, 'node shutting down'),
      ),
    );
    await this.holding.purge(this.bus.nodeId);
  }

  /** Whether this node serves, or is accepting, a host socket of the instance. */
  holds(instanceId: string): boolean {
    return this.byInstance.has(instanceId) || this.acceptingByInstance.has(instanceId);
  }

  /** After a socket of the instance left routing: the row goes once the node holds none. */
  private leftInstance(instanceId: string): void {
    if (!this.holds(instanceId)) void this.holding.update(instanceId, () => this.holds(instanceId));
  }

  get size(): number {
    return this.connections.size;
  }

  /** The serving connection of a replica (by slot: `replicaSlot(instanceId, replica)`). */
  get(slot: string): HostConnection | undefined {
    const connection = this.connections.get(slot);
    return connection?.isServing ? connection : undefined;
  }

  /** The instance's serving connections on this node (no copy: do not keep or change it). */
  servingOf(instanceId: string): readonly HostConnection[] {
    return this.byInstance.get(instanceId) ?? NONE;
  }

  /** Waits for the connections of the instance this node is accepting right now. */
  async acceptingOf(instanceId: string): Promise<void> {
    const accepting = this.acceptingByInstance.get(instanceId);
    if (accepting) await Promise.all([...accepting].map((p) => p.catch(() => undefined)));
  }

  /** Called on every change of a replica held here (connected, load, retired or closed). */
  onChange(listener: (connection: HostConnection, change: ReplicaChange) => void): void {
    this.listeners.push(listener);
  }

  private emit(connection: HostConnection, change: ReplicaChange): void {
    for (const listener of this.listeners) listener(connection, change);
  }

  private setServing(connection: HostConnection): HostConnection | undefined {
    const older = this.connections.get(connection.slot);
    this.connections.set(connection.slot, connection);
    const list = (this.byInstance.get(connection.instanceId) ?? []).filter((c) => c !== older);
    list.push(connection);
    this.byInstance.set(connection.instanceId, list);
    return older;
  }

  /** Takes a connection out of routing (it may still finish its streams). */
  private unsetServing(connection: HostConnection): void {
    if (this.connections.get(connection.slot) === connection) this.connections.delete(connection.slot);
    const list = this.byInstance.get(connection.instanceId);
    if (!list?.includes(connection)) return;
    const rest = list.filter((c) => c !== connection);
    if (rest.length) this.byInstance.set(connection.instanceId, rest);
    else this.byInstance.delete(connection.instanceId);
    this.leftInstance(connection.instanceId);
  }

  /** Sockets still open on this node, including retired ones finishing their last streams. */
  get openCount(): number {
    return this.open.size;
  }

  /**
   * Tells every host to reconnect elsewhere. A host that understands `goaway` (it said `hello`)
   * keeps being served for up to `handoffMs` while it dials another node — make-before-break: the
   * new node's claim retires this socket, so callers never see the instance offline in between.
   * Other hosts (stock Second Me) are retired at once and reconnect on the 1001 close.
   * Either way a socket closes only once its in-flight streams have ended.
   */
  goawayAll(reason: string, handoffMs: number): void {
    for (const connection of this.open) {
      connection.send({ type: 'goaway', reason });
      connection.draining = true;
      if (connection.saidHello && handoffMs > 0) {
        connection.retireAfter(handoffMs, CloseCodes.GoingAway, reason);
        this.emit(connection, 'load');
      } else connection.retire(CloseCodes.GoingAway, reason);
    }
  }

  /** End of a drain's grace period: whatever is still open is cut. */
  terminateAll(): void {
    for (const connection of this.open) connection.close(CloseCodes.ServiceRestart, 'node shut down');
  }

  all(): IterableIterator<HostConnection> {
    return this.connections.values();
  }

  /**
   * A host passed authentication with the password whose stored hash is `passwordHash`: take
   * ownership of its replica of the instance, superseding any older socket of that replica.
   */
  async accept(
    socket: WebSocket,
    instanceId: string,
    replica: string,
    passwordHash: Uint8Array,
  ): Promise<HostConnection> {
    const slot = replicaSlot(instanceId, replica);
    const accepting = this.claimConnection(socket, instanceId, replica, credentialOf(passwordHash));
    this.accepting.set(slot, accepting);
    const ofInstance = this.acceptingByInstance.get(instanceId) ?? new Set();
    ofInstance.add(accepting);
    this.acceptingByInstance.set(instanceId, ofInstance);
    try {
      return await accepting;
    } finally {
      if (this.accepting.get(slot) === accepting) this.accepting.delete(slot);
      ofInstance.delete(accepting);
      if (ofInstance.size === 0 && this.acceptingByInstance.get(instanceId) === ofInstance)
        this.acceptingByInstance.delete(instanceId);
      // Refused, or the host left while it was being accepted.
      this.leftInstance(instanceId);
    }
  }

  /**
   * The serving socket of a replica, waiting first for a connection of it that this node is
   * still accepting (its presence claim may already name this node while the socket is not yet
   * in the map: a chat arriving in that moment must not be told the replica is gone).
   */
  async getOrAccepting(slot: string): Promise<HostConnection | undefined> {
    const accepting = this.accepting.get(slot);
    if (accepting) await accepting.catch(() => undefined);
    return this.get(slot);
  }

  /** What presence records about a connection now. */
  private stateOf(connection: HostConnection): ReplicaState {
    return {
      capacity: connection.capacity,
      inFlight: connection.load,
      connectedAt: connection.connectedAt.getTime(),
      draining: connection.draining,
    };
  }

  private async claimConnection(
    socket: WebSocket,
    instanceId: string,
    replica: string,
    credential: string,
  ): Promise<HostConnection> {
    // Listeners first: a host sends `hello` the moment the socket opens, before any await below ends.
    const connection = new HostConnection(
      instanceId,
      replica,
      0,
      socket,
      this.config.chat.queueLimit,
      this.socketLimits,
      {
        heartbeat: (c) => this.heartbeats.record(c.instanceId),
        malformed: () => this.malformedFrames++,
        hello: (c) => {
          void this.instances
            .setHostModels(c.instanceId, c.capabilities.models ?? [])
            .catch((error: Error) =>
              this.logger.warn(`could not record models of ${c.instanceId}: ${error.message}`),
            );
          // Its capacity, for nodes that read the replica from presence before any gossip.
          if (c.epoch > 0 && this.connections.get(c.slot) === c) void this.refreshPresence([c]);
        },
        load: (c) => {
          if (this.connections.get(c.slot) === c) this.emit(c, c.isServing ? 'load' : 'down');
        },
        closed: (c, code) => void this.onClosed(c, code),
      },
    );
    this.open.add(connection);
    this.credentials.set(connection, credential);
    // Recorded before the instance shows online in presence, so it is never seen online and then
    // `registered`, and the directory (instance_holders) lists it online as soon as detail does.
    await Promise.all([
      this.instances
        .markConnected(instanceId, connection.connectedAt)
        .catch((error: Error) =>
          this.logger.warn(`could not record connection of ${instanceId}: ${error.message}`),
        ),
      this.holding.update(instanceId, () => this.holds(instanceId)),
    ]);
    const claimed = await this.presence.claim(
      instanceId,
      replica,
      this.stateOf(connection),
      this.config.replicasPerInstance,
    );
    if ('tooMany' in claimed) {
      this.logger.warn(`host ${instanceId}: refused replica '${replica}', too many replicas connected`);
      connection.close(
        CloseCodes.TooManyReplicas,
        `the instance already has ${this.config.replicasPerInstance} replicas connected`,
      );
      return connection;
    }
    const { epoch, previous } = claimed;
    connection.epoch = epoch;
    // A rotation or deletion that landed while this socket was authenticating had nothing to close yet.
    const stale = await this.staleCloseCode(instanceId, credential);
    if (stale !== null) connection.close(stale, closeReasons[stale]);
    if (stale !== null || !connection.isOpen) {
      // The host left (or was refused) while we were claiming: undo the claim instead of leaving a ghost.
      await this.presence.release(instanceId, replica, epoch);
      return connection;
    }
    const older = this.setServing(connection);
    if (older) older.retire(CloseCodes.Superseded, SUPERSEDED);
    if (previous && previous.nodeId !== this.bus.nodeId)
      await this.sendEvict(previous.nodeId, connection, 'superseded');
    this.logger.log(`host ${instanceId} replica '${replica}' connected (epoch ${epoch})`);
    this.emit(connection, 'up');
    return connection;
  }

  /** Another node took the instance over, it was deleted, or its password was rotated. */
  private handleEvict(message: NodeRequestOf<'evict'>): void {
    if (message.reason === 'rotated') {
      this.evictStale(message.instanceId).catch((error: Error) =>
        this.logger.warn(`could not evict old connections of ${message.instanceId}: ${error.message}`),
      );
      return;
    }
    if (message.reason === 'deleted') {
      for (const connection of [...this.servingOf(message.instanceId)])
        connection.close(CloseCodes.Unregistered, 'instance unregistered');
      return;
    }
    const connection = this.connections.get(replicaSlot(message.instanceId, message.replica ?? ''));
    if (connection && connection.epoch < message.epoch) {
      this.unsetServing(connection);
      connection.retire(CloseCodes.Superseded, SUPERSEDED);
    }
  }

  /** Here and on every node holding a replica: closes the sockets holding the old password. */
  private async evictRotated(instanceId: string, passwordHash: Uint8Array): Promise<void> {
    await this.evictStale(instanceId, passwordHash);
    await this.evictElsewhere(instanceId, 'rotated');
  }

  /** Tells every other node that holds a replica of the instance. */
  private async evictElsewhere(instanceId: string, reason: 'rotated' | 'deleted'): Promise<void> {
    const nodes = new Set((await this.presence.replicas(instanceId)).map((r) => r.nodeId));
    nodes.delete(this.bus.nodeId);
    await Promise.all(
      [...nodes].map((nodeId) =>
        this.bus.sendRequest(nodeId, { kind: 'evict', from: this.bus.nodeId, instanceId, epoch: 0, reason }),
      ),
    );
  }

  /**
   * Closes every socket of the instance on this node whose credential is no longer its password
   * (`current`, else read from the database; null = deleted), including one still being accepted.
   */
  private async evictStale(instanceId: string, current?: Uint8Array | null): Promise<void> {
    await this.acceptingOf(instanceId);
    const hash = current === undefined ? await this.instances.passwordHash(instanceId) : current;
    const credential = hash && credentialOf(hash);
    const code = credential ? CloseCodes.CredentialsRotated : CloseCodes.Unregistered;
    for (const connection of this.open) {
      if (connection.instanceId !== instanceId || this.credentials.get(connection) === credential) continue;
      // Out of routing at once: no chat may reach it while its closing handshake runs.
      this.unsetServing(connection);
      connection.close(code, closeReasons[code]);
    }
  }

  /** How to close a socket holding `credential` now; null while it is still the instance's password. */
  private async staleCloseCode(instanceId: string, credential: string): Promise<number | null> {
    // The database unreachable: the check the upgrade just made stands.
    const hash = await this.instances.passwordHash(instanceId).catch(() => undefined);
    if (hash === undefined) return null;
    if (hash === null) return CloseCodes.Unregistered;
    return credentialOf(hash) === credential ? null : CloseCodes.CredentialsRotated;
  }

  private async evictDeleted(instanceId: string): Promise<void> {
    for (const connection of [...this.servingOf(instanceId)])
      connection.close(CloseCodes.Unregistered, 'instance unregistered');
    await this.evictElsewhere(instanceId, 'deleted').catch((error: Error) =>
      this.logger.warn(`could not evict the replicas of ${instanceId}: ${error.message}`),
    );
  }

  /** Tells the node holding the superseded connection of the same replica to retire it. */
  private async sendEvict(
    nodeId: string,
    connection: HostConnection,
    reason: NodeRequestOf<'evict'>['reason'],
  ): Promise<void> {
    await this.bus.sendRequest(nodeId, {
      kind: 'evict',
      from: this.bus.nodeId,
      instanceId: connection.instanceId,
      ...(connection.replica !== '' && { replica: connection.replica }),
      epoch: connection.epoch,
      reason,
    });
  }

  private async onClosed(connection: HostConnection, code: number): Promise<void> {
    this.open.delete(connection);
    const wasServing = this.connections.get(connection.slot) === connection;
    this.unsetServing(connection);
    this.leftInstance(connection.instanceId);
    if (wasServing) this.emit(connection, 'down');
    this.logger.log(
      `host ${connection.instanceId} replica '${connection.replica}' disconnected (code ${code})`,
    );
    await this.presence
      .release(connection.instanceId, connection.replica, connection.epoch)
      .catch((error: Error) =>
        this.logger.warn(`could not release presence of ${connection.instanceId}: ${error.message}`),
      );
    this.heartbeats.record(connection.instanceId);
  }

  private async closeAndRelease(connection: HostConnection, code: number, reason: string): Promise<void> {
    connection.close(code, reason);
    await this.presence
      .release(connection.instanceId, connection.replica, connection.epoch)
      .catch(() => false);
  }

  private pingAll(): void {
    for (const connection of this.open) connection.checkAlive();
  }

  /**
   * Extends our records (with each replica's current load); re-claims records Redis lost (e.g. it
   * restarted), yields to newer owners. `only`: just these connections (a `hello` changed one).
   */
  private async refreshPresence(only?: HostConnection[]): Promise<void> {
    const connections = only ?? [...this.connections.values()];
    if (connections.length === 0) return;
    const held = new Map<string, HeldReplica>();
    for (const c of connections)
      held.set(c.slot, {
        instanceId: c.instanceId,
        replica: c.replica,
        epoch: c.epoch,
        state: this.stateOf(c),
      });
    try {
      const lost = await this.presence.refresh(held);
      for (const slot of lost) {
        const connection = this.connections.get(slot);
        if (!connection) continue;
        const owner = await this.presence.owner(connection.instanceId, connection.replica);
        if (owner === null) {
          // Not limited by REPLICAS_PER_INSTANCE: it was admitted before Redis forgot it.
          const claimed = await this.presence.claim(
            connection.instanceId,
            connection.replica,
            this.stateOf(connection),
            0,
          );
          if ('tooMany' in claimed) continue;
          connection.epoch = claimed.epoch;
          this.logger.log(`re-claimed presence of ${slot} (epoch ${connection.epoch})`);
        } else if (owner.nodeId !== this.bus.nodeId || owner.epoch > connection.epoch) {
          this.unsetServing(connection);
          connection.retire(CloseCodes.Superseded, SUPERSEDED);
        }
      }
    } catch (error) {
      this.logger.warn(`presence refresh failed: ${(error as Error).message}`);
    }
  }
}
