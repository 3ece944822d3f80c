import { redactUrl } from '@app/common';
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';

/** Where connection state changes are reported; a Nest `Logger` fits. */
export interface RedisLog {
  log(message: string): void;
  warn(message: string): void;
}

export interface RedisConnectionsOptions {
  /** Prefix of the `CLIENT SETNAME` of each connection (`<name>:cmd`, `<name>:pub`, `<name>:sub`). */
  name?: string;
  /** Presence commands fail after this long without a reply (dead TCP link). Default 5000. */
  commandTimeoutMs?: number;
  /** A PUBLISH fails after this long without a reply. Default 1000. */
  publishTimeoutMs?: number;
  /** Cap of the reconnect backoff. Default 250: a node is back within ~0.35 s of Redis (the fault suite's target: 1 s). */
  maxReconnectDelayMs?: number;
}

type Role = 'command' | 'publisher' | 'subscriber';

/** One Redis server, or a Redis Cluster reached through its nodes' connections. */
export type RedisClient = Redis | Cluster;

/** A Redis URL (one server) or the seed nodes of a Redis Cluster. */
export type RedisTarget = string | readonly { host: string; port: number }[];

/**
 * The three Redis connections of a node in distributed mode.
 *
 * - `command`: presence commands (Lua scripts). Keeps ioredis' offline queue so a command issued
 *   during a short reconnect still runs, but ioredis flushes that queue with an error every second
 *   failed reconnect attempt (`maxRetriesPerRequest: 1`, so at most ~2 × the backoff cap, 0.5 s),
 *   and `commandTimeoutMs` (5 s) rejects a command that gets no reply (dead TCP link). The flush
 *   interval is kept below the timeout so that a command the caller already saw fail is not left
 *   in the queue to run late when Redis comes back.
 * - `publisher`: PUBLISH only. No offline queue, no resend of unanswered commands after a reconnect
 *   and `maxRetriesPerRequest: 0`: a publish while Redis is down fails at once instead of being sent
 *   late, out of order with the frames that follow it (a caller would get an answer with a
 *   hole in it that looks complete).
 * - `subscriber`: SUBSCRIBE only (the cluster bus's two channels and its broadcast channels, which
 *   it re-subscribes itself).
 *
 * All three reconnect forever with an exponential backoff capped at `maxReconnectDelayMs`.
 *
 * Given seed nodes instead of a URL, each of the three is an ioredis `Cluster` with the same
 * policies (a node connection is not retried: the cluster re-reads the slot map and follows the
 * replica that took over). The cluster bus then subscribes through its own `ShardSubscriber`
 * (sharded pub/sub); `subscriber` carries only the bus's broadcasts (classic pub/sub).
 */
export class RedisConnections {
  readonly command: RedisClient;
  readonly publisher: RedisClient;
  readonly subscriber: RedisClient;
  /** The URL without its password (or the cluster's seed nodes), safe to log. */
  readonly displayUrl: string;
  private closed = false;

  constructor(
    target: RedisTarget,
    private readonly log?: RedisLog,
    options: RedisConnectionsOptions = {},
  ) {
    this.displayUrl =
      typeof target === 'string'
        ? redactUrl(target)
        : `Redis Cluster ${target.map((n) => `${n.host}:${n.port}`).join(',')}`;
    const maxDelay = options.maxReconnectDelayMs ?? 250;
    const base: RedisOptions = {
      // Reconnect forever: 50 ms, 100 ms, 200 ms ... capped, plus a little jitter.
      retryStrategy: (times) =>
        Math.min(50 * 2 ** Math.min(times - 1, 16), maxDelay) + Math.floor(Math.random() * 100),
      connectTimeout: 5000,
      // disconnect() arms a timer of this length to destroy the socket if it does not close; it is
      // armed even when the socket is already closed (client waiting to reconnect), and keeps the
      // process alive that long. Redis answers a FIN in milliseconds.
      disconnectTimeout: 300,
      keepAlive: 10_000,
    };
    const name = options.name;
    if (typeof target !== 'string') {
      const { retryStrategy, ...node } = base;
      const cluster = (role: string, overrides: ClusterOptions, nodeOptions: RedisOptions) =>
        new Cluster([...target], {
          clusterRetryStrategy: retryStrategy,
          // A failover takes the cluster's node timeout plus an election: retry the moved slots
          // every 100 ms meanwhile, and refresh the slot map quickly after a MOVED.
          retryDelayOnFailover: 100,
          retryDelayOnClusterDown: 100,
          slotsRefreshTimeout: 2000,
          ...overrides,
          redisOptions: { ...node, connectionName: name && `${name}:${role}`, ...nodeOptions },
        });
      this.command = cluster('cmd', {}, { commandTimeout: options.commandTimeoutMs ?? 5000 });
      // Few redirections: a publish that cannot reach its shard within ~0.3 s fails instead of
      // arriving late (the receiver's sequence check would turn a late frame into an error anyway).
      this.publisher = cluster(
        'pub',
        { enableOfflineQueue: false, maxRedirections: 3 },
        { autoResendUnfulfilledCommands: false, commandTimeout: options.publishTimeoutMs ?? 1000 },
      );
      this.subscriber = cluster('sub', {}, {});
      this.watch('command', this.command);
      this.watch('publisher', this.publisher);
      this.watch('subscriber', this.subscriber);
      return;
    }
    const url = target;
    this.command = new Redis(url, {
      ...base,
      connectionName: name && `${name}:cmd`,
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs ?? 5000,
    });
    this.publisher = new Redis(url, {
      ...base,
      connectionName: name && `${name}:pub`,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      // Not auto-pipelined: ioredis defers such commands to setImmediate, which measured +0.36 ms
      // on a cross-node chat at concurrency 1 and no throughput gain (replies are already
      // coalesced per request per tick by RemoteChatServer).
      maxRetriesPerRequest: 0,
      commandTimeout: options.publishTimeoutMs ?? 1000,
    });
    // The cluster bus re-subscribes itself, once the publisher is ready too (it must be able to answer).
    this.subscriber = this.command.duplicate({
      connectionName: name && `${name}:sub`,
      autoResubscribe: false,
    });
    this.watch('command', this.command);
    this.watch('publisher', this.publisher);
    this.watch('subscriber', this.subscriber);
  }

  /** True when connected to a Redis Cluster (keys hash-tagged, sharded pub/sub). */
  get isCluster(): boolean {
    return this.command instanceof Cluster;
  }

  private all(): [Role, RedisClient][] {
    return [
      ['command', this.command],
      ['publisher', this.publisher],
      ['subscriber', this.subscriber],
    ];
  }

  /** Logs once per outage (not once per reconnect attempt) and always has an `error` listener. */
  private watch(role: Role, client: RedisClient) {
    let down = false;
    client.on('error', (err: Error) => {
      if (down || this.closed) return;
      down = true;
      this.log?.warn(`Redis ${role} connection to ${this.displayUrl} failed: ${err.message}; reconnecting`);
    });
    client.on('close', () => {
      if (down || this.closed) return;
      down = true;
      this.log?.warn(`Redis ${role} connection to ${this.displayUrl} closed; reconnecting`);
    });
    client.on('ready', () => {
      if (!down || this.closed) return;
      down = false;
      this.log?.log(`Redis ${role} connection to ${this.displayUrl} restored`);
    });
  }

  /**
   * Resolves when all three connections are ready. Used at boot: if Redis is not reachable within
   * `timeoutMs` it rejects with a clear error and disconnects all three (so that their reconnect
   * timers do not keep a failed process alive).
   */
  async waitReady(timeoutMs = 5000): Promise<void> {
    const lastErrors = new Map<Role, string>();
    const cleanups: (() => void)[] = [];
    const ready = (role: Role, client: RedisClient) =>
      new Promise<void>((resolve, reject) => {
        if (client.status === 'ready') return resolve();
        if (client.status === 'end') return reject(new Error(`the ${role} connection was closed`));
        const onReady = () => resolve();
        const onError = (err: Error) => lastErrors.set(role, err.message);
        const onEnd = () => reject(new Error(`the ${role} connection was closed`));
        client.once('ready', onReady);
        client.on('error', onError);
        client.once('end', onEnd);
        cleanups.push(() => {
          client.off('ready', onReady);
          client.off('error', onError);
          client.off('end', onEnd);
        });
      });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const cause = [...lastErrors.values()][0];
        reject(
          new Error(
            `Redis at ${this.displayUrl} is not reachable after ${timeoutMs} ms` +
              (cause ? ` (${cause})` : ''),
          ),
        );
      }, timeoutMs);
    });
    try {
      await Promise.race([Promise.all(this.all().map(([role, client]) => ready(role, client))), timeout]);
    } catch (err) {
      this.disconnectAll();
      throw err;
    } finally {
      clearTimeout(timer);
      for (const cleanup of cleanups) cleanup();
    }
  }

  /** QUITs every connection (or drops it if it is not connected) and waits until all are closed. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.all().map(([, client]) => closeClient(client)));
  }

  private disconnectAll() {
    this.closed = true;
    for (const [, client] of this.all()) client.disconnect();
  }
}

async function closeClient(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    // Connecting or waiting to reconnect: nothing to say goodbye to.
    client.disconnect();
    return;
  }
  const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
  // QUIT resolves on the server's OK; the socket closes just after. Do not wait forever for it.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([ended, new Promise<void>((resolve) => (timer = setTimeout(resolve, 1000)))]);
  clearTimeout(timer);
  if ((client.status as string) !== 'end') client.disconnect();
}
