import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import type { ChatFailureCode, ChatRequestBody } from '@app/protocol';
import { ClusterBus } from '../cluster/cluster-bus';
import { REDIS } from '../cluster/cluster.module';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ConnectedHosts } from '../hosts/connected-hosts';
import type { HostConnection } from '../hosts/host-connection';
import { Metrics } from '../metrics/metrics';
import { OnlineInstances } from '../presence/online-instances';
import { replicaSlot } from '../presence/presence.store';
import type { RedisConnections } from '../redis/redis-connections';
import { Candidate, candidateKey, chooseReplica } from '../replicas/replica-choice';
import { ReplicaGossip } from '../replicas/replica-gossip';
import { KnownReplica, ReplicaTable } from '../replicas/replica-table';
import { chatFailure } from './chat-failures';
import type { ChatSink } from './chat-sink';
import { RemoteChatClient } from './remote-chat.client';

/** The caller's side of a chat, as the router sees it. */
export interface RoutedSink extends ChatSink {
  readonly isFinished: boolean;
}

export interface RoutedChat {
  instanceId: string;
  requestId: string;
  hostBody: ChatRequestBody;
  sink: RoutedSink;
  /** Points the caller's cancel (caller gone, timeout) at the current target. */
  setCancel(cancel: () => void): void;
}

/** A replica a chat can go to: a socket here, or one another node holds. */
type Target = Candidate & ({ connection: HostConnection } | { remote: KnownReplica });

/** Attempts per chat (first try plus failovers) before the last failure is the caller's. */
export const MAX_ATTEMPTS = 8;

/**
 * How long a node routes on the replicas it last read from presence before reading them again
 * (in the background: the chat goes on with what is known). Gossip keeps them current meanwhile;
 * this only bounds what a lost gossip message can cost.
 */
export const REPLICA_READ_MS = 2_000;
/** While chats wait for a replica, presence is read again this often (a safety net under gossip). */
const HOLD_POLL_MS = 500;

/** One chat's way through routing: what it tried, whether the caller has a token yet. */
interface Run {
  chat: RoutedChat;
  /** Candidates that failed this chat, and how. */
  excluded: Map<string, ChatFailureCode>;
  attempts: number;
  /** A token reached the caller's side: from now on the chat is never sent anywhere else. */
  started: boolean;
  last?: { code: ChatFailureCode; message: string };
  holdUntil?: number;
  /** Waiting for a replica (counted in `holds`). */
  holding: boolean;
  /** Ends the current wait early (a replica connected). */
  wake?: () => void;
}

export type Admission = 'route' | 'hold' | 'offline' | 'hold_full' | 'node_hold_full';

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
  /** Chats waiting for a replica, by instance. */
  private readonly holds = new Map<string, Set<Run>>();
  /** All of them (bounded by CHAT_HOLD_NODE_LIMIT). */
  private heldTotal = 0;

  constructor(
    private readonly hosts: ConnectedHosts,
    private readonly online: OnlineInstances,
    private readonly remote: RemoteChatClient,
    private readonly bus: ClusterBus,
    private readonly metrics: Metrics,
    private readonly table: ReplicaTable,
    private readonly gossip: ReplicaGossip,
    @Inject(REDIS) redis: RedisConnections | null,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.distributed = redis !== null;
  }

  onModuleInit(): void {
    this.hosts.onChange((connection, change) => {
      if (change === 'up') this.wake(connection.instanceId);
    });
    this.gossip.onGained((instanceId) => this.wake(instanceId));
    // Detail shows the load as routing sees it, not as of the holder's last presence refresh.
    this.online.useLiveState({
      of: (record) => {
        const slot = replicaSlot(record.instanceId, record.replica);
        if (record.nodeId === this.bus.nodeId) {
          const connection = this.hosts.get(slot);
          if (connection?.epoch !== record.epoch) return undefined;
          return { inFlight: connection.load, capacity: connection.capacity, draining: connection.draining };
        }
        const known = this.table.find(record.instanceId, slot, record.epoch);
        return known && { inFlight: known.inFlight, capacity: known.capacity, draining: known.draining };
      },
    });
  }

  /** Chats waiting for a replica of the instance on this node. */
  heldCount(instanceId: string): number {
    return this.holds.get(instanceId)?.size ?? 0;
  }

  /**
   * Before the caller's request is taken on: can it be routed now, held, or neither? Only an
   * instance whose host was connected lately (`lastSeenAt`, CHAT_HOLD_RECENT_MS) is waited for: a
   * never-connected one costs no wait and no presence reads. Rejects when presence cannot be read
   * (the caller gets 503).
   */
  async admission(instanceId: string, lastSeenAt: number | null): Promise<Admission> {
    // The common case without building candidates: a replica on this node takes new chats.
    for (const c of this.hosts.servingOf(instanceId)) if (c.isServing && !c.draining) return 'route';
    if ((await this.targets(instanceId, undefined)).length > 0) return 'route';
    const { holdMs, holdRecentMs, holdLimit, holdNodeLimit } = this.config.chat;
    if (holdMs === 0 || lastSeenAt === null || Date.now() - lastSeenAt > holdRecentMs) return 'offline';
    if (this.heldTotal >= holdNodeLimit) return 'node_hold_full';
    return this.heldCount(instanceId) >= holdLimit ? 'hold_full' : 'hold';
  }

  /** Routes the chat; every outcome reaches `chat.sink`. */
  async dispatch(chat: RoutedChat): Promise<void> {
    await this.attempt({ chat, excluded: new Map(), attempts: 0, started: false, holding: false });
  }

  private async attempt(run: Run): Promise<void> {
    const { sink, instanceId } = run.chat;
    for (;;) {
      if (sink.isFinished) return this.leaveHold(run);
      let targets: Target[];
      try {
        targets = await this.targets(instanceId, run.excluded, run.holding ? HOLD_POLL_MS : undefined);
      } catch {
        this.leaveHold(run);
        return sink.error('node_unreachable', 'the registry cannot reach its cluster state right now; retry');
      }
      const target = chooseReplica(targets);
      if (target) {
        this.leaveHold(run);
        return this.send(run, target);
      }
      // Refused or failed by every replica (queue_full, host_error): waiting would not change that.
      if (run.last && !chatFailure(run.last.code).hold) return sink.error(run.last.code, run.last.message);
      // A replica that was out of reach (its node, or the way there, e.g. Redis failing over) may be
      // reachable when the wait ends; one that disconnected comes back as a new connection anyway.
      for (const [key, code] of run.excluded) if (code === 'node_unreachable') run.excluded.delete(key);
      if (!(await this.hold(run))) return;
    }
  }

  /** Waits until a replica may have connected; false when the hold is over (the caller has been answered). */
  private async hold(run: Run): Promise<boolean> {
    const { sink, instanceId } = run.chat;
    const offline = () => {
      this.leaveHold(run);
      sink.error('instance_offline', `instance '${instanceId}' is not connected`);
      return false;
    };
    if (this.config.chat.holdMs === 0) return offline();
    const now = performance.now();
    if (!run.holding) {
      const { holdLimit, holdNodeLimit } = this.config.chat;
      if (this.heldCount(instanceId) >= holdLimit || this.heldTotal >= holdNodeLimit) {
        sink.error('queue_full', 'too many requests are waiting for this instance to connect');
        return false;
      }
      const held = this.holds.get(instanceId) ?? new Set<Run>();
      held.add(run);
      this.holds.set(instanceId, held);
      this.heldTotal++;
      run.holding = true;
      if (run.holdUntil === undefined) {
        run.holdUntil = now + this.config.chat.holdMs;
        this.metrics.chatsHeld.inc();
      }
    }
    const left = (run.holdUntil ?? now) - now;
    if (left <= 0) return offline();
    // A caller who leaves (or times out) meanwhile ends the wait at once, freeing its hold slot.
    run.chat.setCancel(() => run.wake?.());
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => run.wake?.(), Math.min(left, HOLD_POLL_MS));
      run.wake = () => {
        clearTimeout(timer);
        run.wake = undefined;
        resolve();
      };
    });
    return true;
  }

  private leaveHold(run: Run): void {
    if (!run.holding) return;
    run.holding = false;
    this.heldTotal--;
    const held = this.holds.get(run.chat.instanceId);
    held?.delete(run);
    if (held?.size === 0) this.holds.delete(run.chat.instanceId);
  }

  private wake(instanceId: string): void {
    const held = this.holds.get(instanceId);
    if (held) for (const run of [...held]) run.wake?.();
  }

  /** The replicas a chat can go to now, minus `excluded`; draining ones only when nothing else can take it. */
  private async targets(
    instanceId: string,
    excluded?: ReadonlyMap<string, ChatFailureCode>,
    maxAgeMs?: number,
  ): Promise<Target[]> {
    const targets: Target[] = [];
    const draining: Target[] = [];
    const self = this.bus.nodeId;
    // A host connecting to this node right now may already show in presence: wait for it.
    if (this.hosts.servingOf(instanceId).length === 0) await this.hosts.acceptingOf(instanceId);
    for (const connection of this.hosts.servingOf(instanceId)) {
      if (!connection.isServing) continue;
      const key = candidateKey(self, connection.slot, connection.epoch);
      if (excluded?.has(key)) continue;
      const target = { key, local: true, capacity: connection.capacity, load: connection.load, connection };
      (connection.draining ? draining : targets).push(target);
    }
    if (this.distributed) {
      for (const replica of await this.remoteReplicas(instanceId, maxAgeMs)) {
        const key = candidateKey(replica.nodeId, replica.slot, replica.epoch);
        if (excluded?.has(key)) continue;
        const load = Math.max(replica.inFlight, this.outstanding.get(key) ?? 0);
        const target = { key, local: false, capacity: replica.capacity, load, remote: replica };
        (replica.draining ? draining : targets).push(target);
      }
    }
    // Nothing else: with no hold, a draining replica (still serving until its host has moved) beats a 503.
    return targets.length === 0 && this.config.chat.holdMs === 0 ? draining : targets;
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

  private send(run: Run, target: Target): void {
    const { chat } = run;
    run.attempts++;
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
    const sink: ChatSink = {
      lines: (lines) => {
        if (settled) return;
        run.started = true;
        chat.sink.lines(lines);
      },
      done: () => {
        if (release()) chat.sink.done();
      },
      error: (code, message) => {
        if (!release()) return;
        const failure = chatFailure(code);
        if (run.started || chat.sink.isFinished || !failure.failover || run.attempts >= MAX_ATTEMPTS)
          return chat.sink.error(code, message);
        run.excluded.set(target.key, code);
        run.last = { code, message };
        if ('remote' in target && failure.hold)
          this.table.forget(chat.instanceId, target.remote.slot, target.remote.epoch);
        this.metrics.chatReroutes.inc();
        void this.attempt(run);
      },
    };
    if ('connection' in target) {
      const connection = target.connection;
      chat.setCancel(() => connection.cancelChat(chat.requestId));
      if (!connection.startChat(chat.requestId, chat.hostBody, sink))
        sink.error('queue_full', 'too many requests are waiting for this instance');
      return;
    }
    const replica = target.remote;
    chat.setCancel(() => this.remote.cancel(chat.requestId));
    void this.remote.start(replica, chat.requestId, chat.hostBody, sink).then((sent) => {
      // Nobody listens on the node's channel (it died): its replicas leave routing.
      if (sent) return;
      this.table.dropNode(replica.nodeId);
      sink.error('node_unreachable', `instance '${chat.instanceId}' is not reachable right now`);
    });
  }
}
