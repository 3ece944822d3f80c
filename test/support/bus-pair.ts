import { randomUUID } from 'node:crypto';
import type { NodeReplyMessage, NodeRequestMessage } from '@app/protocol';
import { RedisClusterBus } from '../../apps/registry/src/cluster/redis-cluster-bus';
import { RedisConnections, type RedisTarget } from '../../apps/registry/src/redis/redis-connections';

export const chat = (requestId: string, from = 'node-a'): NodeRequestMessage => ({
  kind: 'chat',
  requestId,
  from,
  instanceId: 'inst-1',
  epoch: 3,
  body: { messages: [{ role: 'user', content: 'hi' }] },
});

/** Collects what a bus receives; `next()` resolves with the next message (or one already received). */
export class Inbox<T> {
  readonly received: T[] = [];
  private waiters: { index: number; resolve: (message: T) => void }[] = [];

  push = (message: T) => {
    this.received.push(message);
    this.waiters = this.waiters.filter((w) => {
      if (w.index >= this.received.length) return true;
      w.resolve(this.received[w.index]);
      return false;
    });
  };

  /** Resolves with the message number `index` (0-based) once it has arrived. */
  at(index: number, timeoutMs = 2000): Promise<T> {
    if (index < this.received.length) return Promise.resolve(this.received[index]);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no message #${index} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        index,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }
}

/** Nodes 'node-a' and 'node-b', each with its own Redis connections and bus: B records requests, A replies. */
export class BusPair {
  readonly prefix = `test:bus:${randomUUID()}`;
  readonly requestsAtB = new Inbox<NodeRequestMessage>();
  readonly repliesAtA = new Inbox<NodeReplyMessage>();
  disconnectsA = 0;
  disconnectsB = 0;
  connA!: RedisConnections;
  connB!: RedisConnections;
  busA!: RedisClusterBus;
  busB!: RedisClusterBus;

  async start(redis: RedisTarget) {
    this.connA = new RedisConnections(redis);
    this.connB = new RedisConnections(redis);
    await Promise.all([this.connA.waitReady(), this.connB.waitReady()]);
    this.busA = new RedisClusterBus(this.connA, { prefix: this.prefix, nodeId: 'node-a' });
    this.busB = new RedisClusterBus(this.connB, { prefix: this.prefix, nodeId: 'node-b' });
    for (const kind of ['chat', 'cancel', 'evict'] as const) this.busB.handle(kind, this.requestsAtB.push);
    this.busA.onReply(this.repliesAtA.push);
    this.busA.onDisconnect(() => this.disconnectsA++);
    this.busB.onDisconnect(() => this.disconnectsB++);
    await Promise.all([this.busA.start(), this.busB.start()]);
  }

  async close() {
    await Promise.all([this.busA?.close(), this.busB?.close()]);
    await Promise.all([this.connA?.close(), this.connB?.close()]);
  }
}
