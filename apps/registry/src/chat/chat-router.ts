import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import type { ChatFailureCode } from '@app/protocol';
import { ClusterBus } from '../cluster/cluster-bus';
import { APP_CONFIG, AppConfig, isDistributed } from '../config/app-config';
import { ConnectedHosts } from '../hosts/connected-hosts';
import { Metrics } from '../metrics/metrics';
import { OnlineInstances } from '../presence/online-instances';
import { modelUp } from '../presence/presence.store';
import { deliverEvents, type ChatSink } from '../contracts/chat-sink';
import { candidateKey, chooseReplica } from '../replicas/replica-choice';
import { ReplicaGossip } from '../replicas/replica-gossip';
import { KnownReplica, ReplicaTable } from '../replicas/replica-table';
import { chatFailure } from './chat-failures';
import { ChatHolds, HOLD_POLL_MS } from './chat-holds';
import { Admission, ChatRoute, ChatToRoute, Target } from './chat-route';
import { RemoteChatClient } from './remote-chat.client';

/** The caller's side of a chat, as the router sees it. */
export interface RoutedSink extends ChatSink {
  readonly isFinished: boolean;
}

/** Attempts per chat (first try plus failovers) before the last failure is the caller's. */
export const MAX_ATTEMPTS = 8;

/**
 * How long a node routes on the replicas it last read from presence before reading them again
 * (in the background: the chat goes on with what is known). Gossip keeps them current meanwhile;
 * this only bounds what a lost gossip message can cost.
 */
export const REPLICA_READ_MS = 2_000;

/** The replicas a chat can go to now; `modelDown`: others are connected but their models do not answer. */
interface Targets {
  targets: Target[];
  modelDown: boolean;
}

/**
 * Sends each chat to one replica of its instance — the one with the most free capacity, anywhere
 * in the cluster (`chooseReplica`) — and moves it to another if that one fails before the first
 * token. With no replica connected the chat is held (CHAT_HOLD_MS) until one connects.
 *
 * What routing knows: this node's replicas exactly (ConnectedHosts), other nodes' replicas from a
 * presence read refreshed every REPLICA_READ_MS in the background and the load gossip in between
 * (ReplicaTable). A remote replica's load is the larger of what its node last said and the chats
 * this node has sent it and not seen end.
 */
@Injectable()
export class ChatRouter implements OnModuleInit {
  private readonly distributed: boolean;
  /** Chats this node has running on each remote candidate (by candidate key). */
  private readonly outstanding = new Map<string, number>();
  /** Presence reads in progress, by instance (one at a time). */
  private readonly reading = new Map<string, Promise<void>>();
  private readonly holds: ChatHolds;

  constructor(
    private readonly hosts: ConnectedHosts,
    private readonly online: OnlineInstances,
    private readonly remote: RemoteChatClient,
    private readonly bus: ClusterBus,
    private readonly metrics: Metrics,
    private readonly table: ReplicaTable,
    private readonly gossip: ReplicaGossip,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.distributed = isDistributed(config);
    this.holds = new ChatHolds(config.chat, metrics);
  }

  onModuleInit(): void {
    this.hosts.onChange((connection, change) => {
      if (change === 'up' || (change === 'model' && connection.modelUp))
        this.holds.wake(connection.instanceId);
    });
    this.gossip.onGained((instanceId) => this.holds.wake(instanceId));
    // Back after a drop (e.g. Redis restarted): gossip sent meanwhile (replicas re-claimed as Redis
    // came back) was lost, so what this node knows is read again, and chats waiting for a replica
    // look at once instead of at their next poll — again once this node's own channels are back,
    // since a cross-node chat cannot go before they are.
    const lookAgain = () => {
      this.table.markAllStale();
      this.holds.wakeAll();
    };
    this.bus.onBroadcastGap(lookAgain);
    this.bus.onReconnect(lookAgain);
  }

  /** Chats waiting for a replica of the instance on this node. */
  heldCount(instanceId: string): number {
    return this.holds.count(instanceId);
  }

  /**
   * Before the caller's request is taken on: can it be routed now, held, or neither? Only an
   * instance whose host was connected lately (`lastSeenAt`, CHAT_HOLD_RECENT_MS) is waited for: a
   * never-connected one costs no wait and no presence reads. The candidates found here serve the
   * chat's first attempt. Replicas connected but with their model down are waited for like
   * absent ones (their agent says when the model is back), then 503 `model_unreachable`.
   * Rejects when presence cannot be read (the caller gets 503).
   */
  async admission(chat: ChatToRoute, lastSeenAt: number | null): Promise<Admission> {
    // The common case without building candidates: a replica on this node takes new chats.
    for (const c of this.hosts.servingOf(chat.instanceId))
      if (c.isServing && !c.draining && c.modelUp) return { kind: 'route', route: new ChatRoute(chat) };
    const { targets, modelDown } = await this.targets(chat.instanceId, undefined);
    if (targets.length > 0) return { kind: 'route', route: new ChatRoute(chat, targets) };
    const { holdMs, holdRecentMs } = this.config.chat;
    if (holdMs === 0) return { kind: modelDown ? 'model_down' : 'offline' };
    if (!modelDown && (lastSeenAt === null || Date.now() - lastSeenAt > holdRecentMs))
      return { kind: 'offline' };
    const refusal = this.holds.refusal(chat.instanceId);
    if (refusal) return { kind: refusal };
    const route = new ChatRoute(chat);
    route.modelDown = modelDown;
    return { kind: 'hold', route };
  }

  /** Routes the chat; every outcome reaches `sink`. */
  async dispatch(route: ChatRoute, sink: RoutedSink): Promise<void> {
    for (;;) {
      if (sink.isFinished) return this.holds.leave(route);
      let targets = route.takeCandidates();
      try {
        if (!targets) {
          const found = await this.targets(
            route.instanceId,
            route.excluded,
            route.holding ? HOLD_POLL_MS : undefined,
          );
          targets = found.targets;
          route.modelDown = found.modelDown;
        }
      } catch {
        this.holds.leave(route);
        return sink.error('node_unreachable', 'the registry cannot reach its cluster state right now; retry');
      }
      const target = chooseReplica(targets);
      if (target) {
        this.holds.leave(route);
        return this.send(route, sink, target);
      }
      // Refused or failed by every replica (queue_full, host_error): waiting would not change that.
      if (route.last && !chatFailure(route.last.code).hold)
        return sink.error(route.last.code, route.last.message);
      // A replica that was out of reach (its node, or the way there, e.g. Redis failing over) may be
      // reachable when the wait ends; one that disconnected comes back as a new connection anyway.
      for (const [key, code] of route.excluded) if (code === 'node_unreachable') route.excluded.delete(key);
      if (!(await this.holds.wait(route, sink))) return;
    }
  }

  /**
   * The replicas a chat can go to now, minus `excluded`; draining ones only when nothing else can
   * take it; never one whose model its agent reports down (a field read: no I/O on the chat path).
   * Loads are read when the chat is sent, not here: other chats may go out in between.
   */
  private async targets(
    instanceId: string,
    excluded?: ReadonlyMap<string, ChatFailureCode>,
    maxAgeMs?: number,
  ): Promise<Targets> {
    const targets: Target[] = [];
    const draining: Target[] = [];
    let modelDown = false;
    const self = this.bus.nodeId;
    // A host connecting to this node right now may already show in presence: wait for it.
    if (this.hosts.servingOf(instanceId).length === 0) await this.hosts.acceptingOf(instanceId);
    for (const connection of this.hosts.servingOf(instanceId)) {
      if (!connection.isServing) continue;
      const key = candidateKey(self, connection.slot, connection.epoch);
      if (excluded?.has(key)) continue;
      if (!connection.modelUp) {
        modelDown = true;
        continue;
      }
      const target: Target = {
        key,
        local: true,
        connection,
        get capacity() {
          return connection.capacity;
        },
        get load() {
          return connection.load;
        },
      };
      (connection.draining ? draining : targets).push(target);
    }
    if (this.distributed) {
      for (const replica of await this.remoteReplicas(instanceId, maxAgeMs)) {
        const key = candidateKey(replica.nodeId, replica.slot, replica.epoch);
        if (excluded?.has(key)) continue;
        if (!modelUp(replica)) {
          modelDown = true;
          continue;
        }
        const outstanding = this.outstanding;
        const target: Target = {
          key,
          local: false,
          capacity: replica.capacity,
          remote: replica,
          get load() {
            return Math.max(replica.inFlight, outstanding.get(key) ?? 0);
          },
        };
        (replica.draining ? draining : targets).push(target);
      }
    }
    // Nothing else: with no hold, a draining replica (still serving until its host has moved) beats a 503.
    const usable = targets.length === 0 && this.config.chat.holdMs === 0 ? draining : targets;
    return { targets: usable, modelDown: usable.length === 0 && modelDown };
  }

  /** Other nodes' replicas: the table, read again in the background when old, waited for when never read. */
  private async remoteReplicas(
    instanceId: string,
    maxAgeMs = REPLICA_READ_MS,
  ): Promise<Iterable<KnownReplica>> {
    const known = this.table.get(instanceId);
    if (!known) {
      await this.read(instanceId);
      return this.table.get(instanceId)?.replicas ?? [];
    }
    if (performance.now() - known.readAt > maxAgeMs) {
      if (maxAgeMs < REPLICA_READ_MS) await this.read(instanceId);
      else void this.read(instanceId).catch(() => undefined);
      return this.table.get(instanceId)?.replicas ?? [];
    }
    return known.replicas;
  }

  private read(instanceId: string): Promise<void> {
    let reading = this.reading.get(instanceId);
    if (!reading) {
      const startedAt = performance.now();
      reading = this.online
        .replicas(instanceId)
        .then((records) => this.table.set(instanceId, records, startedAt))
        .finally(() => this.reading.delete(instanceId));
      this.reading.set(instanceId, reading);
    }
    return reading;
  }

  private send(route: ChatRoute, caller: RoutedSink, target: Target): void {
    route.attempts++;
    let settled = false;
    const remoteKey = 'remote' in target ? target.key : null;
    if (remoteKey) this.outstanding.set(remoteKey, (this.outstanding.get(remoteKey) ?? 0) + 1);
    const release = () => {
      if (settled) return false;
      settled = true;
      if (!remoteKey) return true;
      const left = (this.outstanding.get(remoteKey) ?? 1) - 1;
      if (left > 0) this.outstanding.set(remoteKey, left);
      else this.outstanding.delete(remoteKey);
      return true;
    };
    /** True when what the host sent may go on to the caller (and the route has then started). */
    const passes = () => !settled && (route.started = true);
    const sink: ChatSink = {
      lines: (lines) => {
        if (passes()) caller.lines(lines);
      },
      rawEvents: (events) => {
        if (passes()) deliverEvents(caller, events);
      },
      done: () => {
        if (release()) caller.done();
      },
      error: (code, message) => {
        if (!release()) return;
        const failure = chatFailure(code);
        if (route.started || caller.isFinished || !failure.failover || route.attempts >= MAX_ATTEMPTS)
          return caller.error(code, message);
        route.excluded.set(target.key, code);
        route.last = { code, message };
        if ('remote' in target && failure.hold)
          this.table.forget(route.instanceId, target.remote.slot, target.remote.epoch);
        this.metrics.chatReroutes.inc();
        void this.dispatch(route, caller);
      },
    };
    const { requestId, hostBody, http } = route;
    if ('connection' in target) {
      const connection = target.connection;
      route.servedBy = { node: this.bus.nodeId, replica: connection.replica };
      route.stopsWith(() => connection.cancelChat(requestId));
      if (!connection.startChat(requestId, hostBody, sink, http))
        sink.error('queue_full', 'too many requests are waiting for this instance');
      return;
    }
    const replica = target.remote;
    route.servedBy = { node: replica.nodeId, replica: replica.replica };
    route.stopsWith(() => this.remote.cancel(requestId));
    void this.remote.start(replica, requestId, hostBody, sink, http).then((sent) => {
      // Nobody listens on the node's channel (it died): its replicas leave routing.
      if (sent) return;
      this.table.dropNode(replica.nodeId);
      sink.error('node_unreachable', `instance '${route.instanceId}' is not reachable right now`);
    });
  }
}
