import { setTimeout as sleep } from 'node:timers/promises';
import { broadcastChannel, channelNames } from '@app/protocol';
import type { Redis } from 'ioredis';
import { NODE_ERROR_MESSAGE } from '../../apps/registry/src/cluster/node-messages';
import { RedisPresenceStore } from '../../apps/registry/src/presence/redis-presence.store';
import { unnamed } from '../support/unnamed-presence';
import { RedisConnections } from '../../apps/registry/src/redis/redis-connections';
import { eventually } from '../support/eventually';
import { BusPair, chat, Inbox } from '../support/bus-pair';
import { freePort, RedisServer } from '../support/redis-server';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('RedisClusterBus (shared Redis)', () => {
  const pair = new BusPair();
  const { prefix, requestsAtB, repliesAtA } = pair;

  beforeAll(() => pair.start(REDIS_URL));
  afterAll(() => pair.close());

  it('delivers a request to the target node and the reply back to the caller', async () => {
    const base = requestsAtB.received.length;
    expect(await pair.busA.sendRequest('node-b', chat('r1'))).toBe(true);
    expect(await requestsAtB.at(base)).toEqual(chat('r1'));

    const replyBase = repliesAtA.received.length;
    const lines = ['data: {"choices":[{"delta":{"content":"héllo ✓ \\n"}}]}', ''];
    expect(await pair.busB.sendReply('node-a', { kind: 'chunks', requestId: 'r1', seq: 0, lines })).toBe(
      true,
    );
    expect(await pair.busB.sendReply('node-a', { kind: 'done', requestId: 'r1', seq: 1 })).toBe(true);
    expect(await repliesAtA.at(replyBase)).toEqual({ kind: 'chunks', requestId: 'r1', seq: 0, lines });
    expect(await repliesAtA.at(replyBase + 1)).toEqual({ kind: 'done', requestId: 'r1', seq: 1 });
  });

  it('keeps the order of a burst of chunks', async () => {
    const base = repliesAtA.received.length;
    const sends = Array.from({ length: 500 }, (_, seq) =>
      pair.busB.sendReply('node-a', { kind: 'chunks', requestId: 'burst', seq, lines: [`data: ${seq}`] }),
    );
    expect(await Promise.all(sends)).toEqual(sends.map(() => true));
    await repliesAtA.at(base + 499);
    expect(repliesAtA.received.slice(base).map((m) => m.seq)).toEqual(sends.map((_, i) => i));
  });

  it('sends the PUBLISHes of one tick in one socket write, and a lone one without waiting', async () => {
    // Count the socket's writes: _write for one buffered chunk, _writev for several at once.
    type Writes = { _write: (...args: unknown[]) => void; _writev: (...args: unknown[]) => void };
    const socket = (pair.connB.publisher as Redis).stream as unknown as Writes;
    const original = { _write: socket._write, _writev: socket._writev };
    const writes: number[] = [];
    socket._write = function (this: unknown, ...args: unknown[]) {
      writes.push(1);
      return original._write.apply(this, args);
    };
    socket._writev = function (this: unknown, ...args: unknown[]) {
      writes.push((args[0] as unknown[]).length);
      return original._writev.apply(this, args);
    };
    try {
      const base = repliesAtA.received.length;
      const sends = Array.from({ length: 20 }, (_, seq) =>
        pair.busB.sendReply('node-a', { kind: 'chunks', requestId: 'tick', seq, lines: [`data: ${seq}`] }),
      );
      expect(await Promise.all(sends)).toEqual(sends.map(() => true));
      await repliesAtA.at(base + 19);
      expect(writes).toEqual([20]);

      // Alone in its tick: it has left before the tick ends (no wait for I/O or setImmediate).
      writes.length = 0;
      const { sent, writesThen } = await new Promise<{ sent: Promise<boolean>; writesThen: number[] }>(
        (resolve) => {
          const sent = pair.busB.sendReply('node-a', { kind: 'done', requestId: 'tick', seq: 20 });
          process.nextTick(() => resolve({ sent, writesThen: [...writes] }));
        },
      );
      expect(writesThen).toEqual([1]);
      expect(await sent).toBe(true);
    } finally {
      socket._write = original._write;
      socket._writev = original._writev;
    }
  });

  it('resolves false quickly when no node listens on the target channel', async () => {
    const before = pair.busA.stats.undelivered;
    const started = Date.now();
    expect(await pair.busA.sendRequest('node-gone', chat('r2'))).toBe(false);
    expect(await pair.busA.sendReply('node-gone', { kind: 'done', requestId: 'r2', seq: 0 })).toBe(false);
    expect(Date.now() - started).toBeLessThan(200);
    expect(pair.busA.stats.undelivered).toBe(before + 2);
    expect(pair.busA.stats.publishFailures).toBe(0);
  });

  it('tells whether a node still listens', async () => {
    expect(await pair.busA.isNodeAlive('node-b')).toBe(true);
    expect(await pair.busB.isNodeAlive('node-a')).toBe(true);
    expect(await pair.busA.isNodeAlive('node-gone')).toBe(false);
  });

  it('drops and counts malformed messages (failing the request a malformed reply names), and keeps delivering valid ones', async () => {
    const channels = channelNames(prefix);
    const base = requestsAtB.received.length;
    const replyBase = repliesAtA.received.length;
    const raw = pair.connA.command;
    await raw.publish(channels.requests('node-b'), 'not json {');
    await raw.publish(channels.requests('node-b'), JSON.stringify({ kind: 'bogus', from: 'x' }));
    await raw.publish(channels.requests('node-b'), 'null');
    // A reply shaped message on the request channel is not a request.
    await raw.publish(channels.requests('node-b'), JSON.stringify({ kind: 'done', requestId: 'x', seq: 0 }));
    // Names its request: that request fails (502) instead of waiting for an answer that never comes.
    await raw.publish(channels.replies('node-a'), JSON.stringify({ kind: 'chunks', requestId: 'x', seq: 0 }));
    expect(await pair.busA.sendRequest('node-b', chat('r3'))).toBe(true);
    expect(await pair.busB.sendReply('node-a', { kind: 'done', requestId: 'r3', seq: 0 })).toBe(true);

    expect(await requestsAtB.at(base)).toEqual(chat('r3'));
    expect(await repliesAtA.at(replyBase)).toEqual({
      kind: 'error',
      requestId: 'x',
      seq: 0,
      code: 'node_error',
      message: NODE_ERROR_MESSAGE,
    });
    expect(await repliesAtA.at(replyBase + 1)).toEqual({ kind: 'done', requestId: 'r3', seq: 0 });
    expect(requestsAtB.received.length).toBe(base + 1);
    expect(pair.busB.stats.malformed).toBe(4);
    expect(pair.busA.stats.malformed).toBe(1);
  });

  it('broadcasts to every other node, never back to the sender, and drops what names no sender', async () => {
    const atA = new Inbox<{ message: unknown; from: string }>();
    const atB = new Inbox<{ message: unknown; from: string }>();
    pair.busA.onBroadcast('replicas', (message, from) => atA.push({ message, from }));
    pair.busB.onBroadcast('replicas', (message, from) => atB.push({ message, from }));
    const malformed = pair.busB.stats.malformed;
    const channel = broadcastChannel(prefix, 'replicas');
    await pair.connA.command.publish(channel, 'not json {');
    await pair.connA.command.publish(channel, JSON.stringify({ u: [] }));
    await pair.busA.broadcast('replicas', { u: [1] });
    expect(await atB.at(0)).toEqual({ message: { from: 'node-a', u: [1] }, from: 'node-a' });
    expect(atB.received).toHaveLength(1);
    expect(pair.busB.stats.malformed).toBe(malformed + 2);
    await sleep(50);
    expect(atA.received).toEqual([]);
  });

  it('survives a handler that throws', async () => {
    const base = repliesAtA.received.length;
    pair.busA.onReply(() => {
      throw new Error('boom');
    });
    try {
      expect(await pair.busB.sendReply('node-a', { kind: 'done', requestId: 'r4', seq: 0 })).toBe(true);
      await eventually(() => pair.busA.stats.handlerErrors === 1, 2000);
    } finally {
      pair.busA.onReply(repliesAtA.push);
    }
    expect(await pair.busB.sendReply('node-a', { kind: 'done', requestId: 'r5', seq: 0 })).toBe(true);
    expect(await repliesAtA.at(base)).toEqual({ kind: 'done', requestId: 'r5', seq: 0 });
  });
});

describe('RedisClusterBus across a Redis restart (own redis-server)', () => {
  const pair = new BusPair();
  const { prefix, requestsAtB, repliesAtA } = pair;
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await RedisServer.start();
    await pair.start(redis.url);
  });

  afterAll(async () => {
    await pair.close();
    await redis?.stop();
  });

  it('fails fast during the outage, reports the disconnect once, and delivers again after the restart', async () => {
    let gapsAtA = 0;
    pair.busA.onBroadcastGap(() => gapsAtA++);
    const broadcastsAtA = new Inbox<unknown>();
    pair.busA.onBroadcast('access', broadcastsAtA.push);
    expect(await pair.busA.sendRequest('node-b', chat('before'))).toBe(true);
    expect((await requestsAtB.at(0)).kind).toBe('chat');
    expect(pair.busA.connected && pair.busB.connected).toBe(true);

    await redis.kill();
    await eventually(() => pair.disconnectsA === 1 && pair.disconnectsB === 1, 2000);
    expect(pair.busA.connected).toBe(false);

    // No offline queue on the publisher: fails at once, and is never sent late.
    const started = Date.now();
    expect(
      await pair.busB.sendReply('node-a', { kind: 'chunks', requestId: 'x', seq: 7, lines: ['stale'] }),
    ).toBe(false);
    expect(await pair.busA.sendRequest('node-b', chat('stale'))).toBe(false);
    await expect(pair.busB.broadcast('access', { kind: 'stale' })).rejects.toThrow();
    expect(await pair.busA.isNodeAlive('node-b')).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(pair.busB.stats.publishFailures).toBe(1);
    expect(pair.busA.stats.publishFailures).toBe(1);

    // Presence commands are queued briefly, then fail (never hang until Redis is back).
    const presence = unnamed(new RedisPresenceStore(pair.connA, { prefix, nodeId: 'node-a', ttlMs: 30_000 }));
    const claimStarted = Date.now();
    await expect(presence.claim('inst-1')).rejects.toThrow();
    expect(Date.now() - claimStarted).toBeLessThan(5000);

    // Several reconnect attempts fail meanwhile; the handlers still ran only once.
    await sleep(300);
    expect([pair.disconnectsA, pair.disconnectsB]).toEqual([1, 1]);

    await redis.start();
    await eventually(() => pair.busA.connected && pair.busB.connected, 10_000);
    await eventually(
      () => pair.connA.publisher.status === 'ready' && pair.connB.publisher.status === 'ready',
      10_000,
    );
    expect(await pair.busA.isNodeAlive('node-b')).toBe(true);

    expect(await pair.busA.sendRequest('node-b', chat('after'))).toBe(true);
    expect(await requestsAtB.at(1)).toEqual(chat('after'));
    expect(await pair.busB.sendReply('node-a', { kind: 'done', requestId: 'after', seq: 0 })).toBe(true);
    expect(await repliesAtA.at(0)).toEqual({ kind: 'done', requestId: 'after', seq: 0 });

    // Presence works again. This Redis kept no data, yet epochs do not start over: they come from
    // its clock, so they are higher than any issued before the restart.
    const claimed = await presence.claim('inst-1');
    expect(claimed).toEqual({ epoch: expect.any(Number), previous: null });
    expect(claimed.epoch).toBeGreaterThan((Date.now() - 60_000) * 1000);

    // What was published during the outage never arrived.
    await sleep(100);
    expect(requestsAtB.received.map((m) => (m.kind === 'evict' ? m.kind : m.requestId))).toEqual([
      'before',
      'after',
    ]);
    expect(repliesAtA.received).toHaveLength(1);
    expect([pair.disconnectsA, pair.disconnectsB]).toEqual([1, 1]);

    // Broadcasts sent meanwhile are lost: the node is told once its subscriber is back, and they flow again.
    expect(gapsAtA).toBeGreaterThanOrEqual(1);
    await eventually(async () => {
      await pair.busB.broadcast('access', { kind: 'after' });
      return broadcastsAtA.received.length > 0;
    }, 2000);
    expect(broadcastsAtA.received[0]).toEqual({ from: 'node-b', kind: 'after' });
  });

  it('waitReady fails fast with a clear error when Redis is unreachable', async () => {
    const port = await freePort();
    const conn = new RedisConnections(`redis://:secret@127.0.0.1:${port}`);
    const started = Date.now();
    await expect(conn.waitReady(500)).rejects.toThrow(
      new RegExp(
        `Redis at redis://\\*\\*\\*@127\\.0\\.0\\.1:${port} is not reachable after 500 ms \\(.*ECONNREFUSED`,
      ),
    );
    expect(Date.now() - started).toBeLessThan(1500);
    await conn.close();
  });
});
