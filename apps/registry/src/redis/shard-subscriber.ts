import { EventEmitter } from 'node:events';
import { type Cluster, Redis } from 'ioredis';
import { keySlot } from './key-slot';

export interface ShardSubscriberOptions {
  /** `CLIENT SETNAME` of the connection. */
  name?: string;
  /** Cap of the reconnect backoff. Default 250. */
  maxReconnectDelayMs?: number;
}

/**
 * Sharded pub/sub for channels that share one hash slot: one connection to the master that owns
 * that slot, SSUBSCRIBE on it. It looks like the classic subscriber the cluster bus drives
 * (`status`, `subscribe`, `unsubscribe`; events `messageBuffer` — channel and payload as bytes —
 * `close`, `ready`), so the bus keeps one recovery path for both modes:
 * - the connection is never retried in place: when it ends (the master died) or the server
 *   unsubscribes us (the slot moved to a promoted replica), `close` is emitted, the master of the
 *   slot is looked up again (`CLUSTER SLOTS`) and a new connection is made, with backoff;
 * - `ready` means connected and not subscribed: the bus subscribes again itself.
 */
export class ShardSubscriber extends EventEmitter {
  private connection: Redis | null = null;
  private closed = false;
  private attempts = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly slot: number;

  constructor(
    private readonly cluster: Cluster,
    /** Any channel of the slot to serve. */
    channel: string,
    private readonly opts: ShardSubscriberOptions = {},
  ) {
    super();
    this.slot = keySlot(channel);
    void this.connect();
  }

  get status(): 'ready' | 'connecting' | 'end' {
    if (this.closed) return 'end';
    return this.connection?.status === 'ready' ? 'ready' : 'connecting';
  }

  /** SSUBSCRIBE, waiting up to `timeoutMs` for a connection. A MOVED reply drops the connection. */
  async subscribe(...channels: string[]): Promise<unknown> {
    const connection = await this.whenReady(5000);
    try {
      return await connection.ssubscribe(...channels);
    } catch (err) {
      if (/MOVED|CLUSTERDOWN/.test((err as Error).message)) connection.disconnect();
      throw err;
    }
  }

  async unsubscribe(...channels: string[]): Promise<unknown> {
    return this.connection?.status === 'ready' ? this.connection.sunsubscribe(...channels) : 0;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.connection?.disconnect();
    this.connection = null;
  }

  private whenReady(timeoutMs: number): Promise<Redis> {
    if (this.connection?.status === 'ready') return Promise.resolve(this.connection);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('ready', onReady);
        reject(
          new Error(`no connection to the Redis Cluster master of slot ${this.slot} after ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        if (this.connection) resolve(this.connection);
        else reject(new Error('shard subscriber lost its connection'));
      };
      this.once('ready', onReady);
    });
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    let master: { host: string; port: number };
    try {
      master = await this.masterOfSlot();
    } catch {
      return this.retry();
    }
    if (this.closed) return;
    const connection = new Redis({
      ...this.cluster.options.redisOptions,
      host: master.host,
      port: master.port,
      connectionName: this.opts.name,
      // Never back to the same address: a dead master's slot is served elsewhere after failover.
      retryStrategy: () => null,
      autoResubscribe: false,
      lazyConnect: true,
      connectTimeout: 2000,
    });
    connection.on('smessageBuffer', (channel: Buffer, payload: Buffer) =>
      this.emit('messageBuffer', channel, payload),
    );
    // Errors are followed by `end`; this listener only keeps them from being unhandled.
    connection.on('error', () => undefined);
    // The server unsubscribed us: the slot now belongs to another node.
    connection.on('moved', () => connection.disconnect());
    connection.once('end', () => this.ended(connection));
    try {
      await connection.connect();
    } catch {
      return; // `end` follows and retries.
    }
    if (this.closed) return connection.disconnect();
    this.connection = connection;
    this.attempts = 0;
    this.emit('ready');
  }

  private ended(connection: Redis) {
    if (this.connection === connection) {
      this.connection = null;
      if (!this.closed) this.emit('close');
    }
    this.retry();
  }

  private retry() {
    if (this.closed) return;
    const cap = this.opts.maxReconnectDelayMs ?? 250;
    const delay = Math.min(50 * 2 ** Math.min(this.attempts++, 16), cap) + Math.floor(Math.random() * 100);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), delay);
  }

  /** Asks the cluster (any reachable node) which master serves our slot now. */
  private async masterOfSlot(): Promise<{ host: string; port: number }> {
    const ranges = await this.cluster.cluster('SLOTS');
    for (const [start, end, master] of ranges)
      if (this.slot >= start && this.slot <= end && master) return { host: master[0], port: master[1] };
    throw new Error(`no master serves slot ${this.slot}`);
  }
}

/**
 * PUBSUB SHARDNUMSUB of `channel`, asked of the master that owns its slot (a sharded
 * subscription is counted only there). When that master cannot be reached the slot map may be
 * stale (a replica was promoted): it is refreshed and asked once more. 0 if still unreachable.
 */
export async function shardSubscribers(cluster: Cluster, channel: string): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const nodeKey = cluster.slots[keySlot(channel)]?.[0];
    const master = cluster.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === nodeKey);
    try {
      if (master) {
        const reply = (await master.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number | string];
        return Number(reply[1]);
      }
    } catch {
      // Unreachable master: refresh the slot map below.
    }
    if (attempt > 0) return 0;
    await new Promise<void>((resolve) => cluster.refreshSlotsCache(() => resolve()));
  }
}
