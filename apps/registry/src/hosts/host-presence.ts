import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { CloseCodes } from '@app/protocol';
import { LiveNodes } from '../cluster/live-nodes';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { InstancesRepository } from '../instances/instances.repository';
import { HeldReplica, PresenceOwner, PresenceStore, ReplicaState } from '../presence/presence.store';
import { ConnectedHosts } from './connected-hosts';
import type { HostConnection } from './host-connection';
import { InstanceHolding } from './instance-holding';

/** How often this node's `instance_holders` rows are made exactly what it holds (repairs failed writes). */
const HOLDERS_RESYNC_MS = 60_000;

/** What presence records about a connection now. */
const stateOf = (connection: HostConnection): ReplicaState => ({
  capacity: connection.capacity,
  inFlight: connection.load,
  connectedAt: connection.connectedAt,
  draining: connection.draining,
  modelStatus: connection.modelStatus,
  modelDetail: connection.modelDetail,
});

/**
 * The presence of the replicas this node holds: the `instance_holders` row (written before the
 * claim, deleted once the node holds no socket of the instance), the claim, a refresh every
 * PRESENCE_REFRESH_MS carrying each replica's load, re-claiming what Redis lost (at once when it is
 * back), yielding to a newer owner elsewhere, and the release of a closed socket's claim.
 */
@Injectable()
export class HostPresence implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(HostPresence.name);
  private readonly timers: NodeJS.Timeout[] = [];
  /** Instances whose row says every model held here is down (so a write happens only on a flip). */
  private readonly modelDown = new Set<string>();

  constructor(
    private readonly hub: ConnectedHosts,
    private readonly presence: PresenceStore,
    private readonly holding: InstanceHolding,
    private readonly instances: InstancesRepository,
    private readonly liveNodes: LiveNodes,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    // Rows an earlier run of this node id left (a crash, a restart with a fixed NODE_ID).
    await this.holding.purge(this.config.nodeId);
    this.liveNodes.onForget((nodeId) => void this.holding.purge(nodeId));
    this.hub.onLeft((instanceId) => void this.holding.update(instanceId, () => this.hub.holding(instanceId)));
    // The directory's "model unreachable": a row write only when this node's view of the instance flips.
    this.hub.onChange((connection, change) => {
      if (change === 'load') return;
      const { instanceId } = connection;
      const { holds, modelDown } = this.hub.holding(instanceId);
      if (!holds) this.modelDown.delete(instanceId);
      if (!holds || this.modelDown.has(instanceId) === modelDown) return;
      void this.holding.update(instanceId, () => {
        const state = this.hub.holding(instanceId);
        if (state.modelDown) this.modelDown.add(instanceId);
        else this.modelDown.delete(instanceId);
        return state;
      });
    });
    this.timers.push(setInterval(() => void this.refresh(), this.config.presence.refreshMs));
    this.timers.push(
      setInterval(() => void this.holding.resync([...this.hub.instances()]), HOLDERS_RESYNC_MS),
    );
    for (const timer of this.timers) timer.unref();
    // Redis back (possibly empty after a restart): re-claim our hosts now, not at the next refresh.
    this.presence.onRestored(() => void this.refresh());
  }

  async onModuleDestroy(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await Promise.all(
      [...this.hub.all()].map(async (connection) => {
        connection.close(CloseCodes.GoingAway, 'node shutting down');
        await this.release(connection).catch(() => false);
      }),
    );
    await this.holding.purge(this.config.nodeId);
  }

  /**
   * Records the connection (the instance's `connected` mark and this node's `instance_holders`
   * row), then claims its replica's slot and sets its epoch. Returns the holder it displaced, or
   * null when it was refused (closed: the instance has REPLICAS_PER_INSTANCE replicas already).
   */
  async claim(connection: HostConnection): Promise<{ previous: PresenceOwner | null } | null> {
    const { instanceId, replica } = connection;
    // Recorded before the instance shows online in presence, so it is never seen online and then
    // `registered`, and the directory (instance_holders) lists it online as soon as detail does.
    await Promise.all([
      this.instances
        .markConnected(instanceId, new Date(connection.connectedAt))
        .catch((error: Error) =>
          this.logger.warn(`could not record connection of ${instanceId}: ${error.message}`),
        ),
      this.holding.update(instanceId, () => this.hub.holding(instanceId)),
    ]);
    const { replicasPerInstance } = this.config;
    const claimed = await this.presence.claim(instanceId, replica, stateOf(connection), replicasPerInstance);
    if ('tooMany' in claimed) {
      this.logger.warn(`host ${instanceId}: refused replica '${replica}', too many replicas connected`);
      connection.close(
        CloseCodes.TooManyReplicas,
        `the instance already has ${replicasPerInstance} replicas connected`,
      );
      return null;
    }
    connection.epoch = claimed.epoch;
    return { previous: claimed.previous };
  }

  /** Deletes the connection's claim if it still names it (compare-and-delete). */
  release(connection: HostConnection): Promise<boolean> {
    return this.presence.release(connection.instanceId, connection.replica, connection.epoch);
  }

  /**
   * Extends our records (with each replica's current load); re-claims records Redis lost (e.g. it
   * restarted), yields to newer owners. `only`: just these connections (a `hello` changed one).
   */
  async refresh(only?: HostConnection[]): Promise<void> {
    const connections = only ?? [...this.hub.all()];
    if (connections.length === 0) return;
    const held = new Map<string, HeldReplica>();
    for (const c of connections)
      held.set(c.slot, { instanceId: c.instanceId, replica: c.replica, epoch: c.epoch, state: stateOf(c) });
    try {
      const lost = await this.presence.refresh(held);
      for (const slot of lost) {
        const connection = this.hub.inSlot(slot);
        if (connection) await this.reclaimOrYield(connection);
      }
    } catch (error) {
      this.logger.warn(`presence refresh failed: ${(error as Error).message}`);
    }
  }

  /** A record that no longer names the connection: claimed again if nobody holds it, else yielded. */
  private async reclaimOrYield(connection: HostConnection): Promise<void> {
    const owner = await this.presence.owner(connection.instanceId, connection.replica);
    if (owner === null) {
      // Not limited by REPLICAS_PER_INSTANCE: it was admitted before Redis forgot it.
      const claimed = await this.presence.claim(
        connection.instanceId,
        connection.replica,
        stateOf(connection),
        0,
      );
      if ('tooMany' in claimed) return;
      connection.epoch = claimed.epoch;
      this.logger.log(`re-claimed presence of ${connection.slot} (epoch ${connection.epoch})`);
      // As a connect: the gossip tells the other nodes now (its new epoch; chats they hold for the
      // instance go at once), not only presence at their next read.
      this.hub.notify(connection, 'up');
    } else if (owner.nodeId !== this.config.nodeId || owner.epoch > connection.epoch) {
      this.hub.supersede(connection);
    }
  }
}
