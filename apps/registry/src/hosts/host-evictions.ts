import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { CloseCodes } from '@app/protocol';
import { ClusterBus, type NodeRequestOf } from '../cluster/cluster-bus';
import { replicaSlot } from '../contracts/replica-slot';
import { InstanceEvents } from '../instances/instance-events';
import { InstancesRepository } from '../instances/instances.repository';
import { PresenceStore } from '../presence/presence.store';
import { ConnectedHosts } from './connected-hosts';
import type { HostConnection } from './host-connection';

const closeReasons: Record<number, string> = {
  [CloseCodes.Unregistered]: 'instance unregistered',
  [CloseCodes.CredentialsRotated]: 'the instance password was changed; connect with the new one',
};

/** How a socket remembers the password it authenticated with: the stored hash, never the password. */
const credentialOf = (passwordHash: Uint8Array) => Buffer.from(passwordHash).toString('base64');

/**
 * Closes host sockets that lost the right to serve: superseded by a newer connection of their
 * replica on another node (4409), holding a password that was rotated (4401), or of a deleted
 * instance (4404). It reacts to `InstanceEvents` on this node and to `evict` messages from the
 * others, and sends `evict` to the nodes holding a replica when the change happened here.
 */
@Injectable()
export class HostEvictions implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(HostEvictions.name);
  /** The credential each socket authenticated with, so a rotation can close those holding an old one. */
  private readonly credentials = new WeakMap<HostConnection, string>();
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly hub: ConnectedHosts,
    private readonly presence: PresenceStore,
    private readonly bus: ClusterBus,
    private readonly instances: InstancesRepository,
    private readonly events: InstanceEvents,
  ) {}

  onModuleInit(): void {
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

  onModuleDestroy(): void {
    for (const unsubscribe of this.unsubscribe) unsubscribe();
  }

  /** The socket authenticated with the password whose stored hash is `passwordHash`. */
  remember(connection: HostConnection, passwordHash: Uint8Array): void {
    this.credentials.set(connection, credentialOf(passwordHash));
  }

  /**
   * A rotation or deletion that landed while this socket was authenticating had nothing to close
   * yet: closes it now (4401 or 4404). True when it did.
   */
  async closeIfStale(connection: HostConnection): Promise<boolean> {
    // The database unreachable: the check the upgrade just made stands.
    const hash = await this.instances.passwordHash(connection.instanceId).catch(() => undefined);
    if (hash === undefined) return false;
    const credential = hash && credentialOf(hash);
    if (credential === this.credentials.get(connection)) return false;
    const code = credential ? CloseCodes.CredentialsRotated : CloseCodes.Unregistered;
    connection.close(code, closeReasons[code]);
    return true;
  }

  /** Tells the node holding the superseded connection of the same replica to retire it. */
  async superseded(nodeId: string, connection: HostConnection): Promise<void> {
    await this.bus.sendRequest(nodeId, {
      kind: 'evict',
      from: this.bus.nodeId,
      instanceId: connection.instanceId,
      ...(connection.replica !== '' && { replica: connection.replica }),
      epoch: connection.epoch,
      reason: 'superseded',
    });
  }

  /** Another node took the replica over, the instance was deleted, or its password was rotated. */
  private handleEvict(message: NodeRequestOf<'evict'>): void {
    if (message.reason === 'rotated') {
      this.evictStale(message.instanceId).catch((error: Error) =>
        this.logger.warn(`could not evict old connections of ${message.instanceId}: ${error.message}`),
      );
      return;
    }
    if (message.reason === 'deleted') return this.closeDeleted(message.instanceId);
    const connection = this.hub.inSlot(replicaSlot(message.instanceId, message.replica ?? ''));
    if (connection && connection.epoch < message.epoch) this.hub.supersede(connection);
  }

  /** Here and on every node holding a replica: closes the sockets holding the old password. */
  private async evictRotated(instanceId: string, passwordHash: Uint8Array): Promise<void> {
    await this.evictStale(instanceId, passwordHash);
    await this.evictElsewhere(instanceId, 'rotated');
  }

  private async evictDeleted(instanceId: string): Promise<void> {
    this.closeDeleted(instanceId);
    await this.evictElsewhere(instanceId, 'deleted').catch((error: Error) =>
      this.logger.warn(`could not evict the replicas of ${instanceId}: ${error.message}`),
    );
  }

  private closeDeleted(instanceId: string): void {
    for (const connection of [...this.hub.servingOf(instanceId)])
      connection.close(CloseCodes.Unregistered, closeReasons[CloseCodes.Unregistered]);
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
    await this.hub.acceptingOf(instanceId);
    const hash = current === undefined ? await this.instances.passwordHash(instanceId) : current;
    const credential = hash && credentialOf(hash);
    const code = credential ? CloseCodes.CredentialsRotated : CloseCodes.Unregistered;
    for (const connection of this.hub.openOf(instanceId)) {
      if (this.credentials.get(connection) === credential) continue;
      // Out of routing at once: no chat may reach it while its closing handshake runs.
      this.hub.unserve(connection);
      connection.close(code, closeReasons[code]);
    }
  }
}
