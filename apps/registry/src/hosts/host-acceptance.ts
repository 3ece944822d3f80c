import { Inject, Injectable, Logger } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { replicaSlot } from '../contracts/replica-slot';
import { InstancesRepository } from '../instances/instances.repository';
import { ConnectedHosts } from './connected-hosts';
import { HeartbeatRecorder } from './heartbeat-recorder';
import { HostConnection } from './host-connection';
import type { HostConnectionEvents, HostSocketLimits } from './host-connection-options';
import { loggableHostError } from './host-error-detail';
import { HostEvictions } from './host-evictions';
import { HostPresence } from './host-presence';

/**
 * An authenticated host socket's way in and out of this node: its `HostConnection`, the presence
 * claim, a last check of its password, its replica's slot in the hub (superseding an older
 * connection of the replica, here or on another node), and on close the release of its claim.
 */
@Injectable()
export class HostAcceptance {
  private readonly logger = new Logger(HostAcceptance.name);
  private readonly socketLimits: HostSocketLimits;
  /** One set of listeners for every connection (per-connection closures cost ~0.4 KB a host). */
  private readonly connectionEvents: HostConnectionEvents = {
    heartbeat: (c) => this.heartbeats.record(c.instanceId),
    malformed: () => this.hub.malformedFrames++,
    hello: (c) => this.hello(c),
    modelStatus: (c) => this.modelStatus(c),
    load: (c) => this.hub.loadChanged(c),
    closed: (c, code) => void this.closed(c, code),
  };

  constructor(
    private readonly hub: ConnectedHosts,
    private readonly presence: HostPresence,
    private readonly evictions: HostEvictions,
    private readonly instances: InstancesRepository,
    private readonly heartbeats: HeartbeatRecorder,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    const { maxSendBufferBytes, maxFramesPerSec, maxBytesPerSec, maxBadFrames } = config.ws;
    this.socketLimits = { maxSendBufferBytes, maxFramesPerSec, maxBytesPerSec, maxBadFrames };
  }

  /**
   * A host passed authentication with the password whose stored hash is `passwordHash`: take
   * ownership of its replica of the instance, superseding any older socket of that replica.
   */
  accept(
    socket: WebSocket,
    instanceId: string,
    replica: string,
    passwordHash: Uint8Array,
  ): Promise<HostConnection> {
    const accepting = this.admit(socket, instanceId, replica, passwordHash);
    return this.hub.whileAccepting(replicaSlot(instanceId, replica), instanceId, accepting);
  }

  private async admit(
    socket: WebSocket,
    instanceId: string,
    replica: string,
    passwordHash: Uint8Array,
  ): Promise<HostConnection> {
    // Listeners first: a host sends `hello` the moment the socket opens, before any await below ends.
    const connection = new HostConnection(
      instanceId,
      replica,
      0,
      socket,
      this.config.chat.queueLimit,
      this.socketLimits,
      this.connectionEvents,
    );
    this.hub.opened(connection);
    this.evictions.remember(connection, passwordHash);
    const claimed = await this.presence.claim(connection);
    if (!claimed) return connection;
    if ((await this.evictions.closeIfStale(connection)) || !connection.isOpen) {
      // The host left (or was refused) while we were claiming: undo the claim instead of leaving a ghost.
      await this.presence.release(connection);
      return connection;
    }
    this.hub.serve(connection);
    const { previous } = claimed;
    if (previous && previous.nodeId !== this.config.nodeId)
      await this.evictions.superseded(previous.nodeId, connection);
    this.logger.log(`host ${instanceId} replica '${replica}' connected (epoch ${connection.epoch})`);
    this.hub.notify(connection, 'up');
    return connection;
  }

  private hello(connection: HostConnection): void {
    const { instanceId } = connection;
    void this.instances
      .setHostModels(
        instanceId,
        connection.capabilities.models ?? [],
        connection.capabilities.endpoints ?? [],
      )
      .catch((error: Error) =>
        this.logger.warn(`could not record models of ${instanceId}: ${error.message}`),
      );
    // Its capacity, for nodes that read the replica from presence before any gossip.
    if (connection.epoch > 0 && this.hub.isCurrent(connection)) void this.presence.refresh([connection]);
  }

  /**
   * Its agent says its model answers again, or not: routing (here, and elsewhere through the
   * gossip) and presence learn it at once. Said only on a change, so it costs a frame, a broadcast
   * and one Redis write per change, never per probe.
   */
  private modelStatus(connection: HostConnection): void {
    const { instanceId, replica, modelStatus, modelDetail } = connection;
    const words = modelDetail === null ? '' : `: ${loggableHostError(modelDetail)}`;
    this.logger.log(`host ${instanceId} replica '${replica}' model ${modelStatus}${words}`);
    this.hub.modelChanged(connection);
    if (connection.epoch > 0 && this.hub.isCurrent(connection)) void this.presence.refresh([connection]);
  }

  private async closed(connection: HostConnection, code: number): Promise<void> {
    const { instanceId, replica } = connection;
    this.hub.closed(connection);
    this.logger.log(`host ${instanceId} replica '${replica}' disconnected (code ${code})`);
    await this.presence
      .release(connection)
      .catch((error: Error) =>
        this.logger.warn(`could not release presence of ${instanceId}: ${error.message}`),
      );
    this.heartbeats.record(instanceId);
  }
}
