import type { EventEmitter } from 'node:events';
import type { RedisClient, RedisLog } from '../redis/redis-connections';

/** What the bus needs of its subscriber: ioredis' classic one, or a `ShardSubscriber`. */
export type BusSubscriber = Pick<EventEmitter, 'on' | 'off'> & {
  readonly status: string;
  subscribe(...channels: string[]): Promise<unknown>;
  unsubscribe(...channels: string[]): Promise<unknown>;
};

export interface NodeSubscriptionEvents {
  /** The payload as bytes: a chat's events stay bytes (see `decodeNodeReplyBytes`). */
  message(channel: string, payload: Buffer): void;
  /** The subscription dropped (once per outage): what was sent to this node meanwhile is lost. */
  lost(): void;
  /** Subscribed again after a drop (Redis confirmed): other nodes reach this one again. */
  restored?(): void;
}

/**
 * This node's own channels (its request and reply channels), kept subscribed across outages.
 * When the subscriber connection closes, `lost` runs once per outage. When it and the publisher
 * are both ready again the channels are SUBSCRIBEd again (ioredis' autoResubscribe is off) and,
 * once Redis confirmed, `subscribed` is true again. Until then no node can reach this one
 * (PUBLISH answers 0), so it never accepts a chat it could not answer.
 */
export class NodeSubscription {
  private started = false;
  private closed = false;
  private subscribedNow = false;
  /** Set on disconnect; the next `ready` of the subscriber resubscribes. */
  private lost = false;

  private readonly onMessage = (channel: Buffer, payload: Buffer) =>
    this.events.message(channel.toString(), payload);
  private readonly onClose = () => this.disconnected();
  private readonly onError = (err: Error) => {
    // Socket errors are followed by `close`; an error while still ready is only worth a log line.
    if (this.subscriber.status !== 'ready') this.disconnected();
    else this.log?.warn(`cluster bus subscriber error: ${err.message}`);
  };
  /** Subscriber or publisher ready: resubscribe once both are. */
  private readonly onReady = () => {
    if (this.lost && !this.closed && this.subscriber.status === 'ready' && this.publisher.status === 'ready')
      void this.resubscribe();
  };

  constructor(
    private readonly subscriber: BusSubscriber,
    private readonly publisher: RedisClient,
    private readonly channels: readonly string[],
    private readonly events: NodeSubscriptionEvents,
    private readonly log?: RedisLog,
  ) {}

  /** True while the channels are subscribed (false from a disconnect until the resubscribe is confirmed). */
  get subscribed(): boolean {
    return this.subscribedNow;
  }

  /** Subscribes; rejects if Redis refuses or is unreachable. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.subscriber.on('messageBuffer', this.onMessage);
    this.subscriber.on('close', this.onClose);
    this.subscriber.on('error', this.onError);
    this.subscriber.on('ready', this.onReady);
    this.publisher.on('ready', this.onReady);
    try {
      await this.subscriber.subscribe(...this.channels);
    } catch (err) {
      this.detach();
      this.started = false;
      throw err;
    }
    this.subscribedNow = true;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.detach();
    if (this.started && this.subscriber.status === 'ready')
      await this.subscriber.unsubscribe(...this.channels).catch(() => undefined);
    this.subscribedNow = false;
  }

  private detach() {
    this.subscriber.off('close', this.onClose);
    this.subscriber.off('error', this.onError);
    this.subscriber.off('ready', this.onReady);
    this.publisher.off('ready', this.onReady);
    this.subscriber.off('messageBuffer', this.onMessage);
  }

  private disconnected() {
    if (this.closed || !this.started || this.lost) return;
    this.lost = true;
    this.subscribedNow = false;
    this.events.lost();
  }

  private async resubscribe() {
    if (this.closed || !this.lost) return;
    try {
      await this.subscriber.subscribe(...this.channels);
    } catch (err) {
      this.log?.warn(`cluster bus resubscribe failed: ${err instanceof Error ? err.message : String(err)}`);
      // Usually the connection dropped again (`close` follows and the next `ready` retries);
      // if it is still up (e.g. the SUBSCRIBE timed out), try again shortly.
      if (!this.closed && this.subscriber.status === 'ready')
        setTimeout(() => void this.resubscribe(), 1000).unref();
      return;
    }
    if (this.closed || this.subscriber.status !== 'ready') return;
    this.lost = false;
    this.subscribedNow = true;
    this.log?.log('cluster bus subscription restored');
    this.events.restored?.();
  }
}
