import { corkForThisTick } from '@app/common';
import {
  type BroadcastTopic,
  channelNames,
  type NodeReplyMessage,
  type NodeRequestMessage,
  shardedChannelNames,
} from '@app/protocol';
import { Cluster, Redis } from 'ioredis';
import type { RedisClient, RedisConnections, RedisLog } from '../redis/redis-connections';
import { ShardSubscriber, shardSubscribers } from '../redis/shard-subscriber';
import { ClusterBus, type ClusterBusStats } from './cluster-bus';
import {
  decodeBroadcast,
  decodeEventsReply,
  decodeNodeReply,
  decodeNodeRequest,
  encodeEventsReply,
  EVENTS_REPLY_MARKER,
} from './node-messages';
import { NodeSubscription } from './node-subscription';
import { RedisBroadcasts } from './redis-broadcasts';

/**
 * Rejects after `ms`. A cluster retries a command whose shard is failing over (slot map refresh,
 * redirections) outside the node's command timeout; a send must fail fast instead.
 */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no reply within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface RedisClusterBusOptions {
  /** Channel prefix shared by all nodes of one registry. */
  prefix: string;
  nodeId: string;
  log?: RedisLog;
  /** Redis Cluster: a send that gets no answer within this long fails. Default 1000. */
  publishTimeoutMs?: number;
}

/**
 * Distributed mode: each node subscribes to exactly two channels of its own, its request channel
 * and its reply channel (`channelNames(prefix)`), on the dedicated subscriber connection, plus the
 * broadcast channels every node shares (`RedisBroadcasts`).
 *
 * - Sending = one PUBLISH of one JSON.stringify on the target node's channel, on the publisher
 *   connection, which has no offline queue: while Redis is down a send resolves false at once
 *   instead of being delivered late. PUBLISH returning 0 (nobody subscribed: node gone) → false.
 * - Disconnect: `NodeSubscription` runs the `onDisconnect` handlers once per outage (messages sent
 *   to us meanwhile are lost, so in-flight requests must fail) and subscribes again once Redis is
 *   back; `connected` is false in between.
 * - Redis Cluster: the same with sharded pub/sub. Both channels of a node share one hash tag
 *   (`shardedChannelNames`), a `ShardSubscriber` SSUBSCRIBEs them on the master of their slot,
 *   sends are SPUBLISH (delivered on that shard only, not broadcast to every shard) and liveness
 *   is PUBSUB SHARDNUMSUB on that master. A failover of that shard is a disconnect like above.
 *   Broadcasts stay classic PUBLISH / SUBSCRIBE, which a cluster delivers on every shard.
 */
export class RedisClusterBus extends ClusterBus {
  readonly nodeId: string;
  readonly stats: ClusterBusStats = {
    malformed: 0,
    publishFailures: 0,
    undelivered: 0,
    handlerErrors: 0,
  };
  private readonly channels: ReturnType<typeof channelNames>;
  private readonly requestChannel: string;
  private readonly replyChannel: string;
  private readonly subscription: NodeSubscription;
  private readonly broadcasts: RedisBroadcasts;
  private readonly publisher: RedisClient;
  /** Membership commands (`<prefix>:nodes`) and PING. */
  private readonly command: RedisClient;
  private readonly membersKey: string;
  /** Set in a Redis Cluster: the bus owns this subscriber (sharded pub/sub). */
  private readonly shardSubscriber?: ShardSubscriber;
  private readonly log?: RedisLog;
  private readonly publishTimeoutMs: number;
  private replyHandler: (message: NodeReplyMessage) => void = () => undefined;
  private readonly disconnectHandlers: (() => void)[] = [];
  private closed = false;

  private readonly onMessage = (channel: string, payload: Buffer) => {
    if (channel === this.requestChannel) this.dispatch(payload.toString(), decodeNodeRequest, this.onRequest);
    else if (channel !== this.replyChannel) return;
    else if (payload[0] !== EVENTS_REPLY_MARKER)
      this.dispatch(payload.toString(), this.decodeReply, this.replyHandler);
    else this.deliver(decodeEventsReply(payload), this.replyHandler);
  };
  private readonly onRequest = (message: NodeRequestMessage) => this.deliverRequest(message);
  private readonly decodeReply = (value: unknown): NodeReplyMessage | null => {
    const decoded = decodeNodeReply(value);
    if (decoded?.problem) {
      this.stats.malformed++;
      this.log?.warn(
        `unreadable reply for request ${decoded.message.requestId}: ${decoded.problem}; failing it`,
      );
    }
    return decoded?.message ?? null;
  };

  constructor(connections: RedisConnections, opts: RedisClusterBusOptions) {
    super();
    this.nodeId = opts.nodeId;
    this.log = opts.log;
    this.publishTimeoutMs = opts.publishTimeoutMs ?? 1000;
    this.channels = connections.isCluster ? shardedChannelNames(opts.prefix) : channelNames(opts.prefix);
    this.requestChannel = this.channels.requests(opts.nodeId);
    this.replyChannel = this.channels.replies(opts.nodeId);
    this.publisher = connections.publisher;
    this.command = connections.command;
    this.membersKey = `${opts.prefix}:nodes`;
    if (connections.command instanceof Cluster) {
      this.shardSubscriber = new ShardSubscriber(connections.command, this.requestChannel, {
        name: `${opts.nodeId}:ssub`,
      });
    }
    this.subscription = new NodeSubscription(
      this.shardSubscriber ?? (connections.subscriber as Redis),
      this.publisher,
      [this.requestChannel, this.replyChannel],
      {
        message: this.onMessage,
        lost: () => this.disconnected(),
        restored: () => this.runAll(this.reconnectHandlers, 'reconnect'),
      },
      opts.log,
    );
    this.broadcasts = new RedisBroadcasts(
      connections.subscriber,
      this.publisher,
      opts.prefix,
      {
        message: (topic, payload) =>
          this.dispatch(payload, decodeBroadcast, ({ message, from }) =>
            this.deliverBroadcast(topic, message, from),
          ),
        gap: () => this.runAll(this.broadcastGapHandlers, 'broadcast gap'),
      },
      opts.log,
    );
  }

  /** True while our two channels are subscribed (false from a disconnect until the resubscribe is confirmed). */
  get connected(): boolean {
    return this.subscription.subscribed;
  }

  /** Subscribes to this node's two channels and the broadcasts; rejects if Redis refuses or is unreachable. */
  async start(): Promise<void> {
    await this.subscription.start();
    await this.broadcasts.start();
  }

  sendRequest(nodeId: string, message: NodeRequestMessage): Promise<boolean> {
    return this.publish(this.channels.requests(nodeId), message);
  }

  sendReply(nodeId: string, message: NodeReplyMessage): Promise<boolean> {
    return this.publish(this.channels.replies(nodeId), message);
  }

  onReply(handler: (message: NodeReplyMessage) => void): void {
    this.replyHandler = handler;
  }

  onDisconnect(handler: () => void): void {
    this.disconnectHandlers.push(handler);
  }

  async broadcast(topic: BroadcastTopic, message: object): Promise<void> {
    if (this.closed) return;
    await this.broadcasts.publish(topic, JSON.stringify({ from: this.nodeId, ...message }));
  }

  async ping(): Promise<void> {
    await this.command.ping();
  }

  /**
   * PUBSUB NUMSUB (SHARDNUMSUB in a cluster) on the node's request channel: a node that died
   * (even SIGKILLed) has no subscription left. Uses the publisher connection, so while Redis is
   * unreachable this answers false at once (we could not reach that node anyway).
   */
  async isNodeAlive(nodeId: string): Promise<boolean> {
    const channel = this.channels.requests(nodeId);
    try {
      if (this.publisher instanceof Cluster) return (await shardSubscribers(this.publisher, channel)) > 0;
      const reply = await this.publisher.pubsub('NUMSUB', channel);
      return Number(reply[1]) > 0;
    } catch {
      return false;
    }
  }

  /** SADD ourselves and SMEMBERS in one round trip (a single key: one slot in a cluster too). */
  async nodes(): Promise<string[]> {
    const replies = await this.command
      .multi()
      .sadd(this.membersKey, this.nodeId)
      .smembers(this.membersKey)
      .exec();
    const members = replies?.[1];
    if (!members || members[0]) throw members?.[0] ?? new Error('node membership: transaction aborted');
    return members[1] as string[];
  }

  async forgetNode(nodeId: string): Promise<void> {
    await this.command.srem(this.membersKey, nodeId);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.broadcasts.close();
    await this.subscription.close();
    // A node that stops cleanly leaves the membership at once (a killed one is forgotten later).
    await this.command.srem(this.membersKey, this.nodeId).catch(() => undefined);
    this.shardSubscriber?.close();
  }

  private async publish(channel: string, message: NodeRequestMessage | NodeReplyMessage): Promise<boolean> {
    if (this.closed) return false;
    let receivers: number;
    try {
      this.corkPublisherForThisTick();
      // A chat's events stay bytes; everything else is JSON.
      const payload = message.kind === 'events' ? encodeEventsReply(message) : JSON.stringify(message);
      receivers = await (this.publisher instanceof Cluster
        ? withTimeout(this.publisher.spublish(channel, payload) as Promise<number>, this.publishTimeoutMs)
        : this.publisher.publish(channel, payload));
    } catch {
      this.stats.publishFailures++;
      return false;
    }
    if (receivers > 0) return true;
    this.stats.undelivered++;
    return false;
  }

  /**
   * The PUBLISHes of one tick (the replies of many streams read from one host socket, the
   * requests of many callers) leave in one write to Redis instead of one syscall each. A cluster
   * writes to one socket per shard; its commands are not corked.
   */
  private corkPublisherForThisTick(): void {
    if (this.publisher instanceof Redis && this.publisher.status === 'ready')
      corkForThisTick(this.publisher.stream);
  }

  private dispatch<T>(payload: string, decode: (value: unknown) => T | null, handler: (message: T) => void) {
    let message: T | null;
    try {
      message = decode(JSON.parse(payload));
    } catch {
      message = null;
    }
    this.deliver(message, handler);
  }

  /** Hands a decoded message to its handler (null: counted as malformed and dropped). */
  private deliver<T>(message: T | null, handler: (message: T) => void) {
    if (message === null) {
      this.stats.malformed++;
      return;
    }
    try {
      handler(message);
    } catch (err) {
      // Thrown inside ioredis' data handler it would become an uncaught exception.
      this.stats.handlerErrors++;
      this.log?.warn(`cluster bus handler failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private disconnected() {
    this.log?.warn('cluster bus lost its Redis subscription; failing in-flight cross-node requests');
    this.runAll(this.disconnectHandlers, 'disconnect');
  }

  /** Runs every handler, each on its own: one that throws is counted and logged. */
  private runAll(handlers: readonly (() => void)[], what: string) {
    for (const handler of handlers) {
      try {
        handler();
      } catch (err) {
        this.stats.handlerErrors++;
        this.log?.warn(
          `cluster bus ${what} handler failed: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
  }
}
