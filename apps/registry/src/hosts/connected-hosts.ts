import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { CloseCodes } from '@app/protocol';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import type { HostConnection } from './host-connection';

const NONE: readonly HostConnection[] = [];
const SUPERSEDED = 'another connection of this replica took over';

/** What changed about a replica this node holds: routing and the load gossip listen. */
export type ReplicaChange = 'up' | 'load' | 'model' | 'down';

/**
 * The hub: which host sockets this node holds — every open one, the one serving each replica
 * (by presence slot and by instance, for routing), the ones still being accepted — and who is told
 * when that changes. It only tracks: claiming presence is `HostPresence`'s job, closing sockets
 * on another node's or the owner's word is `HostEvictions`', and a socket's way in and out is
 * `HostAcceptance`'s.
 */
@Injectable()
export class ConnectedHosts implements OnModuleInit, OnModuleDestroy {
  /** Serving connections by presence slot (`<id>` or `<id>/<replica>`). */
  private readonly connections = new Map<string, HostConnection>();
  /** The same connections by instance, for routing. */
  private readonly byInstance = new Map<string, HostConnection[]>();
  private readonly listeners: Array<(connection: HostConnection, change: ReplicaChange) => void> = [];
  private readonly leftListeners: Array<(instanceId: string) => void> = [];
  /** Every open socket, including retired ones that are not in `connections` any more. */
  private readonly open = new Set<HostConnection>();
  /** Connections being accepted (database mark, presence claim) that are not in `connections` yet, by slot. */
  private readonly accepting = new Map<string, Promise<HostConnection>>();
  /** How many of them each instance has. */
  private readonly acceptingByInstance = new Map<string, Set<Promise<HostConnection>>>();
  private timer?: NodeJS.Timeout;
  /** Frames dropped as malformed, over all sockets this node ever held. */
  malformedFrames = 0;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  onModuleInit(): void {
    this.timer = setInterval(() => this.pingAll(), this.config.ws.pingIntervalMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Whether this node serves, or is accepting, a host socket of the instance. */
  holds(instanceId: string): boolean {
    return this.byInstance.has(instanceId) || this.acceptingByInstance.has(instanceId);
  }

  /** This node's part of the directory's view: holds the instance, and whether every model it holds of it is down. */
  holding(instanceId: string): { holds: boolean; modelDown: boolean } {
    const serving = this.byInstance.get(instanceId);
    return {
      holds: serving !== undefined || this.acceptingByInstance.has(instanceId),
      modelDown: serving !== undefined && serving.every((c) => !c.modelUp),
    };
  }

  get size(): number {
    return this.connections.size;
  }

  /** Sockets still open on this node, including retired ones finishing their last streams. */
  get openCount(): number {
    return this.open.size;
  }

  /** The serving connection of a replica (by slot: `replicaSlot(instanceId, replica)`). */
  get(slot: string): HostConnection | undefined {
    const connection = this.connections.get(slot);
    return connection?.isServing ? connection : undefined;
  }

  /** The connection in the replica's slot, serving or not (being retired). */
  inSlot(slot: string): HostConnection | undefined {
    return this.connections.get(slot);
  }

  /** Whether the connection is the one in its replica's slot. */
  isCurrent(connection: HostConnection): boolean {
    return this.connections.get(connection.slot) === connection;
  }

  /** The instance's serving connections on this node (no copy: do not keep or change it). */
  servingOf(instanceId: string): readonly HostConnection[] {
    return this.byInstance.get(instanceId) ?? NONE;
  }

  /** The connections in their replicas' slots. */
  all(): IterableIterator<HostConnection> {
    return this.connections.values();
  }

  /** The instances with a serving connection here. */
  instances(): IterableIterator<string> {
    return this.byInstance.keys();
  }

  /** The open sockets of the instance, retired ones included. */
  openOf(instanceId: string): HostConnection[] {
    return [...this.open].filter((c) => c.instanceId === instanceId);
  }

  /** Waits for the connections of the instance this node is accepting right now. */
  async acceptingOf(instanceId: string): Promise<void> {
    const accepting = this.acceptingByInstance.get(instanceId);
    if (accepting) await Promise.all([...accepting].map((p) => p.catch(() => undefined)));
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

  /** Called on every change of a replica held here (connected, load, retired or closed). */
  onChange(listener: (connection: HostConnection, change: ReplicaChange) => void): void {
    this.listeners.push(listener);
  }

  /** Called when a socket of the instance left and this node may hold none of it any more. */
  onLeft(listener: (instanceId: string) => void): void {
    this.leftListeners.push(listener);
  }

  notify(connection: HostConnection, change: ReplicaChange): void {
    for (const listener of this.listeners) listener(connection, change);
  }

  /** Its agent reported a new model status: told only while it is in its slot. */
  modelChanged(connection: HostConnection): void {
    if (this.isCurrent(connection) && connection.isServing) this.notify(connection, 'model');
  }

  /** A connection's load or serving state changed: told only while it is in its slot. */
  loadChanged(connection: HostConnection): void {
    if (this.isCurrent(connection)) this.notify(connection, connection.isServing ? 'load' : 'down');
  }

  /** Tracks a connection while `accepting` runs; it counts as held meanwhile (`holds`, `acceptingOf`). */
  async whileAccepting(
    slot: string,
    instanceId: string,
    accepting: Promise<HostConnection>,
  ): Promise<HostConnection> {
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
      this.left(instanceId);
    }
  }

  /** A socket opened (it is not serving until `serve`). */
  opened(connection: HostConnection): void {
    this.open.add(connection);
  }

  /** Puts the connection in its replica's slot; an older one there is retired (4409) and returned. */
  serve(connection: HostConnection): HostConnection | undefined {
    const older = this.connections.get(connection.slot);
    this.connections.set(connection.slot, connection);
    const list = (this.byInstance.get(connection.instanceId) ?? []).filter((c) => c !== older);
    list.push(connection);
    this.byInstance.set(connection.instanceId, list);
    older?.retire(CloseCodes.Superseded, SUPERSEDED);
    return older;
  }

  /** Takes a connection out of routing (it may still finish its streams). */
  unserve(connection: HostConnection): void {
    if (this.connections.get(connection.slot) === connection) this.connections.delete(connection.slot);
    const list = this.byInstance.get(connection.instanceId);
    if (!list?.includes(connection)) return;
    const rest = list.filter((c) => c !== connection);
    if (rest.length) this.byInstance.set(connection.instanceId, rest);
    else this.byInstance.delete(connection.instanceId);
    this.left(connection.instanceId);
  }

  /** Another connection of its replica took over: out of routing, closed (4409) once its streams ended. */
  supersede(connection: HostConnection): void {
    this.unserve(connection);
    connection.retire(CloseCodes.Superseded, SUPERSEDED);
  }

  /** The socket closed: forgotten, and its listeners told if it was serving. */
  closed(connection: HostConnection): void {
    this.open.delete(connection);
    const wasServing = this.isCurrent(connection);
    this.unserve(connection);
    this.left(connection.instanceId);
    if (wasServing) this.notify(connection, 'down');
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
        this.notify(connection, 'load');
      } else connection.retire(CloseCodes.GoingAway, reason);
    }
  }

  /** End of a drain's grace period: whatever is still open is cut. */
  terminateAll(): void {
    for (const connection of this.open) connection.close(CloseCodes.ServiceRestart, 'node shut down');
  }

  private left(instanceId: string): void {
    if (this.holds(instanceId)) return;
    for (const listener of this.leftListeners) listener(instanceId);
  }

  private pingAll(): void {
    for (const connection of this.open) connection.checkAlive();
  }
}
