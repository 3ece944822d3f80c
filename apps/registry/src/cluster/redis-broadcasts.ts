import { BROADCAST_TOPICS, broadcastChannel, type BroadcastTopic } from '@app/protocol';
import type { RedisClient, RedisLog } from '../redis/redis-connections';

export interface RedisBroadcastEvents {
  /** A message arrived on a topic's channel (undecoded). */
  message(topic: BroadcastTopic, payload: string): void;
  /** The subscriber is connected again: what was broadcast meanwhile is lost. */
  gap(): void;
}

/**
 * The broadcast channels of the bus (`broadcastChannel(prefix, topic)` for every topic), classic
 * pub/sub on the subscriber connection, in a Redis Cluster too (where it is an ioredis `Cluster`
 * that PUBLISH reaches from any shard). Subscribed at start, and again whenever the connection is
 * ready again (ioredis' own resubscription is off); each of those is a gap. Publishing uses the
 * publisher connection, which has no offline queue: while Redis is down a broadcast fails at once.
 */
export class RedisBroadcasts {
  private readonly topics = new Map<string, BroadcastTopic>();

  /** Buffers (ioredis' `messageBuffer`): no listener of ours takes `message`, so ioredis decodes no payload it need not. */
  private readonly onMessage = (channel: Buffer, payload: Buffer) => {
    const topic = this.topics.get(channel.toString());
    if (topic) this.events.message(topic, payload.toString());
  };
  private readonly onReady = () => {
    this.events.gap();
    this.subscriber.subscribe(...this.topics.keys()).catch((err: Error) => {
      // `close` and the next `ready` follow when the connection dropped again.
      this.log?.warn(`broadcast resubscribe failed: ${err.message}`);
    });
  };

  constructor(
    private readonly subscriber: RedisClient,
    private readonly publisher: RedisClient,
    private readonly prefix: string,
    private readonly events: RedisBroadcastEvents,
    private readonly log?: RedisLog,
  ) {
    for (const topic of BROADCAST_TOPICS) this.topics.set(broadcastChannel(prefix, topic), topic);
  }

  /** Resolves once subscribed; rejects if Redis refuses or is unreachable. */
  async start(): Promise<void> {
    this.subscriber.on('messageBuffer', this.onMessage);
    this.subscriber.on('ready', this.onReady);
    try {
      await this.subscriber.subscribe(...this.topics.keys());
    } catch (err) {
      this.close();
      throw err;
    }
  }

  async publish(topic: BroadcastTopic, payload: string): Promise<void> {
    await this.publisher.publish(broadcastChannel(this.prefix, topic), payload);
  }

  /** Stops listening (the connection belongs to `RedisConnections`, which closes it). */
  close(): void {
    this.subscriber.off('messageBuffer', this.onMessage);
    this.subscriber.off('ready', this.onReady);
  }
}
