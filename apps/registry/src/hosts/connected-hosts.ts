import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { CloseCodes } from '@app/protocol';
import { ClusterBus, type NodeRequestOf } from '../cluster/cluster-bus';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { InstanceEvents } from '../instances/instance-events';
import { InstancesRepository } from '../instances/instances.repository';
import { PresenceStore } from '../presence/presence.store';
import { HeartbeatRecorder } from './heartbeat-recorder';
import { HostConnection, HostSocketLimits } from './host-connection';

/** How a socket remembers the password it authenticated with: the stored hash, never the password. */
const closeReasons: Record<number, string> = {
  [CloseCodes.Unregistered]: 'instance unregistered',
  [CloseCodes.CredentialsRotated]: 'the instance password was changed; connect with the new one',
};

const credentialOf = (passwordHash: Uint8Array) => Buffer.from(passwordHash).toString('base64');

/**
 * The host sockets this node holds, and their presence in the cluster: claim on connect
 * (a newer connection supersedes an older one anywhere), refresh while held, compare-and-delete
 * on close, ping to drop dead peers.
 */
@Injectable()
export class ConnectedHosts implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ConnectedHosts.name);
  private readonly connections = new Map<string, HostConnection>();
  /** Every open socket, including retired ones that are not in `connections` any more. */
  private readonly open = new Set<HostConnection>();
  /** Connections being accepted (database mark, presence claim) that are not in `connections` yet. */
  private readonly accepting = new Map<string, Promise<HostConnection>>();
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
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    const { maxSendBufferBytes, maxFramesPerSec, maxBytesPerSec, maxBadFrames } = config.ws;
    this.socketLimits = { maxSendBufferBytes, maxFramesPerSec, maxBytesPerSec, maxBadFrames };
  }

  onModuleInit(): void {
    this.timers.push(setInterval(() => this.pingAll(), this.config.ws.pingIntervalMs));
    this.timers.push(setInterval(() => void this.refreshPresence(), this.config.presence.refreshMs));
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
  }

  get size(): number {
    return this.connections.size;
  }

  get(instanceId: string): HostConnection | undefined {
    const connection = this.connections.get(instanceId);
    return connection?.isServing ? connection : undefined;
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
      if (connection.saidHello && handoffMs > 0)
        connection.retireAfter(handoffMs, CloseCodes.GoingAway, reason);
      else connection.retire(CloseCodes.GoingAway, reason);
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
   * ownership of the instance, superseding any older socket.
   */
  async accept(socket: WebSocket, instanceId: string, passwordHash: Uint8Array): Promise<HostConnection> {
    const accepting = this.claimConnection(socket, instanceId, credentialOf(passwordHash));
    this.accepting.set(instanceId, accepting);
    try {
      return await accepting;
    } finally {
      if (this.accepting.get(instanceId) === accepting) this.accepting.delete(instanceId);
    }
  }

  /**
   * The serving socket of an instance, waiting first for a connection of it that this node is
   * still accepting (its presence claim may already name this node while the socket is not yet
   * in the map: a chat arriving in that moment must not be told the instance is offline).
   */
  async getOrAccepting(instanceId: string): Promise<HostConnection | undefined> {
    const accepting = this.accepting.get(instanceId);
    if (accepting) await accepting.catch(() => undefined);
    return this.get(instanceId);
  }

  private async claimConnection(
    socket: WebSocket,
    instanceId: string,
    credential: string,
  ): Promise<HostConnection> {
    // Listeners first: a host sends `hello` the moment the socket opens, before any await below ends.
    const connection = new HostConnection(
      instanceId,
      0,
      socket,
      this.config.chat.queueLimit,
      this.socketLimits,
      {
        heartbeat: (c) => this.heartbeats.record(c.instanceId),
        malformed: () => this.malformedFrames++,
        hello: (c) =>
          void this.instances
            .setHostModels(c.instanceId, c.capabilities.models ?? [])
            .catch((error: Error) =>
              this.logger.warn(`could not record models of ${c.instanceId}: ${error.message}`),
            ),
        closed: (c, code) => void this.onClosed(c, code),
      },
    );
    this.open.add(connection);
    this.credentials.set(connection, credential);
    // Recorded before the instance shows online, so it is never seen online and then `registered`.
    await this.instances
      .markConnected(instanceId, connection.connectedAt)
      .catch((error: Error) =>
        this.logger.warn(`could not record connection of ${instanceId}: ${error.message}`),
      );
    const { epoch, previous } = await this.presence.claim(instanceId);
    connection.epoch = epoch;
    // A rotation or deletion that landed while this socket was authenticating had nothing to close yet.
    const stale = await this.staleCloseCode(instanceId, credential);
    if (stale !== null) connection.close(stale, closeReasons[stale]);
    if (stale !== null || !connection.isOpen) {
      // The host left (or was refused) while we were claiming: undo the claim instead of leaving a ghost.
      await this.presence.release(instanceId, epoch);
      return connection;
    }
    const older = this.connections.get(instanceId);
    this.connections.set(instanceId, connection);
    if (older) older.retire(CloseCodes.Superseded, 'another connection took over this instance');
    if (previous && previous.nodeId !== this.bus.nodeId)
      await this.sendEvict(previous.nodeId, instanceId, epoch, 'superseded');
    this.logger.log(`host ${instanceId} connected (epoch ${epoch})`);
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
    const connection = this.connections.get(message.instanceId);
    if (!connection) return;
    if (message.reason === 'deleted') connection.close(CloseCodes.Unregistered, 'instance unregistered');
    else if (connection.epoch < message.epoch) {
      this.connections.delete(message.instanceId);
      connection.retire(CloseCodes.Superseded, 'another connection took over this instance');
    }
  }

  /** Here and on the node that owns the instance: closes the sockets holding the old password. */
  private async evictRotated(instanceId: string, passwordHash: Uint8Array): Promise<void> {
    await this.evictStale(instanceId, passwordHash);
    const owner = await this.presence.owner(instanceId);
    if (owner && owner.nodeId !== this.bus.nodeId)
      await this.sendEvict(owner.nodeId, instanceId, owner.epoch, 'rotated');
  }

  /**
   * Closes every socket of the instance on this node whose credential is no longer its password
   * (`current`, else read from the database; null = deleted), including one still being accepted.
   */
  private async evictStale(instanceId: string, current?: Uint8Array | null): Promise<void> {
    await this.accepting.get(instanceId)?.catch(() => undefined);
    const hash = current === undefined ? await this.instances.passwordHash(instanceId) : current;
    const credential = hash && credentialOf(hash);
    const code = credential ? CloseCodes.CredentialsRotated : CloseCodes.Unregistered;
    for (const connection of this.open) {
      if (connection.instanceId !== instanceId || this.credentials.get(connection) === credential) continue;
      // Out of the map at once: no chat may reach it while its closing handshake runs.
      if (this.connections.get(instanceId) === connection) this.connections.delete(instanceId);
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
    const local = this.connections.get(instanceId);
    if (local) {
      local.close(CloseCodes.Unregistered, 'instance unregistered');
      return;
    }
    const owner = await this.presence.owner(instanceId).catch(() => null);
    if (owner && owner.nodeId !== this.bus.nodeId)
      await this.sendEvict(owner.nodeId, instanceId, owner.epoch, 'deleted');
  }

  private async sendEvict(
    nodeId: string,
    instanceId: string,
    epoch: number,
    reason: NodeRequestOf<'evict'>['reason'],
  ): Promise<void> {
    await this.bus.sendRequest(nodeId, { kind: 'evict', from: this.bus.nodeId, instanceId, epoch, reason });
  }

  private async onClosed(connection: HostConnection, code: number): Promise<void> {
    this.open.delete(connection);
    if (this.connections.get(connection.instanceId) === connection)
      this.connections.delete(connection.instanceId);
    this.logger.log(`host ${connection.instanceId} disconnected (code ${code})`);
    await this.presence
      .release(connection.instanceId, connection.epoch)
      .catch((error: Error) =>
        this.logger.warn(`could not release presence of ${connection.instanceId}: ${error.message}`),
      );
    this.heartbeats.record(connection.instanceId);
  }

  private async closeAndRelease(connection: HostConnection, code: number, reason: string): Promise<void> {
    connection.close(code, reason);
    await this.presence.release(connection.instanceId, connection.epoch).catch(() => false);
  }

  private pingAll(): void {
    for (const connection of this.open) connection.checkAlive();
  }

  /** Extends our owner records; re-claims records Redis lost (e.g. it restarted), yields to newer owners. */
  private async refreshPresence(): Promise<void> {
    if (this.connections.size === 0) return;
    const held = new Map([...this.connections.values()].map((c) => [c.instanceId, c.epoch] as const));
    try {
      const lost = await this.presence.refresh(held);
      for (const instanceId of lost) {
        const connection = this.connections.get(instanceId);
        if (!connection) continue;
        const owner = await this.presence.owner(instanceId);
        if (owner === null) {
          connection.epoch = (await this.presence.claim(instanceId)).epoch;
          this.logger.log(`re-claimed presence of ${instanceId} (epoch ${connection.epoch})`);
        } else if (owner.nodeId !== this.bus.nodeId || owner.epoch > connection.epoch) {
          this.connections.delete(instanceId);
          connection.retire(CloseCodes.Superseded, 'another connection took over this instance');
        }
      }
    } catch (error) {
      this.logger.warn(`presence refresh failed: ${(error as Error).message}`);
    }
  }
}
