import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisPresenceStore } from '../../apps/registry/src/presence/redis-presence.store';
import { IDLE, unnamed } from '../support/unnamed-presence';
import { RedisConnections } from '../../apps/registry/src/redis/redis-connections';

// Runs against the shared Redis; every test uses its own key prefix and deletes it afterwards.
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Which of `candidates` have an unexpired owner record. */
const ids = async (store: ReturnType<typeof unnamed>, candidates = ['inst-1', 'inst-x', 'inst-live']) => {
  const owned = await Promise.all(candidates.map(async (id) => ((await store.owner(id)) ? id : null)));
  return owned.filter((id): id is string => id !== null);
};

/** An epoch from the Redis clock: microseconds since 1970, around now. */
const nearNowUs = (epoch: number) => Math.abs(epoch / 1000 - Date.now()) < 60_000;

describe('RedisPresenceStore (real Redis)', () => {
  let connections: RedisConnections;
  const prefixes: string[] = [];

  beforeAll(async () => {
    connections = new RedisConnections(REDIS_URL);
    // Each test adds two stores (a close and a ready listener each) to this one connection; a node has one.
    connections.command.setMaxListeners(0);
    await connections.waitReady();
  });

  afterEach(async () => {
    const redis = connections.command;
    for (const prefix of prefixes.splice(0)) {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      if (keys.length) await redis.del(...keys);
    }
  });

  afterAll(async () => {
    await connections.close();
  });

  function stores(ttlMs = 30_000) {
    const prefix = `test:presence:${randomUUID()}`;
    prefixes.push(prefix);
    return {
      prefix,
      a: unnamed(new RedisPresenceStore(connections, { prefix, nodeId: 'node-a', ttlMs })),
      b: unnamed(new RedisPresenceStore(connections.command, { prefix, nodeId: 'node-b', ttlMs })),
    };
  }

  it('claim makes the owner visible to the other node', async () => {
    const { a, b } = stores();
    const first = await a.claim('inst-1');
    expect(first).toEqual({ epoch: expect.any(Number), previous: null });
    expect(nearNowUs(first.epoch)).toBe(true);
    expect(await b.owner('inst-1')).toEqual({ nodeId: 'node-a', epoch: first.epoch });
    expect(await ids(b)).toEqual(['inst-1']);
    expect(await b.owner('unknown')).toBeNull();
  });

  it('a newer claim by another node returns the displaced owner and a higher epoch', async () => {
    const { a, b } = stores();
    const first = await a.claim('inst-1');
    const second = await b.claim('inst-1');
    expect(second.epoch).toBeGreaterThan(first.epoch);
    expect(second.previous).toEqual({ nodeId: 'node-a', epoch: first.epoch });
    expect(await a.owner('inst-1')).toEqual({ nodeId: 'node-b', epoch: second.epoch });
  });

  it('release is compare-and-delete: the displaced node cannot delete the new owner', async () => {
    const { a, b } = stores();
    const first = await a.claim('inst-1');
    const second = await b.claim('inst-1');
    expect(await a.release('inst-1', first.epoch)).toBe(false);
    // Even the right epoch from the wrong node does not match.
    expect(await a.release('inst-1', second.epoch)).toBe(false);
    expect(await a.owner('inst-1')).toEqual({ nodeId: 'node-b', epoch: second.epoch });
    expect(await ids(a)).toEqual(['inst-1']);

    expect(await b.release('inst-1', second.epoch)).toBe(true);
    expect(await a.owner('inst-1')).toBeNull();
    expect(await ids(a)).toEqual([]);
    expect(await b.release('inst-1', second.epoch)).toBe(false);
  });

  it('refresh reports ids superseded by another node and keeps the rest', async () => {
    const { a, b } = stores();
    const x = await a.claim('inst-x');
    const y = await a.claim('inst-y');
    await b.claim('inst-y');
    const held = new Map([
      ['inst-x', x.epoch],
      ['inst-y', y.epoch],
    ]);
    expect(await a.refresh(held)).toEqual(['inst-y']);
    expect(await a.refresh(new Map())).toEqual([]);
  });

  it('epochs keep increasing across release and reclaim', async () => {
    const { a } = stores();
    const first = await a.claim('inst-1');
    await a.release('inst-1', first.epoch);
    const again = await a.claim('inst-1');
    expect(again.epoch).toBeGreaterThan(first.epoch);
    expect(again.previous).toBeNull();
  });

  it("a slot's epoch key expires well after the presence TTL; names used once leave nothing behind", async () => {
    const { a, prefix } = stores(200);
    for (let i = 0; i < 50; i++) {
      const claimed = await a.store.claim('inst', `name-${i}`, IDLE, 0);
      if ('tooMany' in claimed) throw new Error('refused');
      await a.store.release('inst', `name-${i}`, claimed.epoch);
    }
    const keys = await connections.command.keys(`${prefix}:*`);
    expect(keys).toHaveLength(50);
    const ttl = await connections.command.pttl(`${prefix}:epoch:inst/name-0`);
    expect(ttl).toBeGreaterThan(200);
    expect(ttl).toBeLessThanOrEqual(20 * 200);
    await sleep(20 * 200 + 300);
    expect(await connections.command.keys(`${prefix}:*`)).toEqual([]);
    // And epochs still increase after the key is gone (they come from the Redis clock).
    const later = await a.store.claim('inst', 'name-0', IDLE, 0);
    if ('tooMany' in later) throw new Error('refused');
    expect(nearNowUs(later.epoch)).toBe(true);
  });

  it('a clock stepped back (the last epoch ahead of it) still gets a higher epoch', async () => {
    const { a, prefix } = stores();
    const first = await a.claim('inst-1');
    await connections.command.set(`${prefix}:epoch:inst-1`, String(first.epoch + 10_000_000));
    const second = await a.claim('inst-1');
    expect(second.epoch).toBe(first.epoch + 10_000_001);
  });

  it('concurrent claims: the highest epoch always ends up as the owner', async () => {
    const { a, b } = stores();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).claim('inst-race').then((r) => ({ ...r, i }))),
    );
    const epochs = results.map((r) => r.epoch).sort((p, q) => p - q);
    expect(new Set(epochs).size).toBe(40);
    const top = results.find((r) => r.epoch === epochs[39])!;
    expect(await a.owner('inst-race')).toEqual({
      nodeId: top.i % 2 ? 'node-a' : 'node-b',
      epoch: epochs[39],
    });
    // Every claim displaced exactly the previous epoch.
    for (const r of results) {
      const rank = epochs.indexOf(r.epoch);
      if (rank === 0) expect(r.previous).toBeNull();
      else expect(r.previous?.epoch).toBe(epochs[rank - 1]);
    }
  });

  it('an unrefreshed record expires: owner and owners forget it, and refresh reports it lost', async () => {
    const { a, b, prefix } = stores(300);
    const x = await a.claim('inst-x');
    await b.claim('inst-live');
    expect((await ids(a)).sort()).toEqual(['inst-live', 'inst-x']);

    // Keep inst-live alive by refreshing it; let inst-x lapse.
    const live = new Map([['inst-live', (await b.owner('inst-live'))!.epoch]]);
    for (let i = 0; i < 4; i++) {
      await sleep(120);
      expect(await b.refresh(live)).toEqual([]);
    }
    expect(await a.owner('inst-x')).toBeNull();
    expect(await ids(a)).toEqual(['inst-live']);
    expect(await a.refresh(new Map([['inst-x', x.epoch]]))).toEqual(['inst-x']);
    // Its replica entry is gone too (the hash expired with it).
    expect(await connections.command.exists(`${prefix}:reps:inst-x`)).toBe(0);

    await sleep(400);
    expect(await b.owner('inst-live')).toBeNull();
    expect(await ids(b)).toEqual([]);
  });

  it('refresh of many ids is batched and returns exactly the lost ones', async () => {
    const { a, b } = stores();
    const ids = Array.from({ length: 2500 }, (_, i) => `inst-${i}`);
    const claims = await Promise.all(ids.map((id) => a.claim(id)));
    const held = new Map(ids.map((id, i) => [id, claims[i].epoch]));
    await b.claim('inst-7');
    await b.claim('inst-1999');
    expect((await a.refresh(held)).sort()).toEqual(['inst-1999', 'inst-7']);
    expect(await a.owner('inst-8')).toEqual({ nodeId: 'node-a', epoch: held.get('inst-8') });
  });

  it('uses the Redis clock, not the node clock', async () => {
    const { a, b } = stores(10_000);
    const spy = jest.spyOn(Date, 'now').mockReturnValue(0);
    let epoch: number;
    try {
      epoch = (await a.claim('inst-1')).epoch;
      expect(await ids(b)).toEqual(['inst-1']);
    } finally {
      spy.mockRestore();
    }
    expect(await ids(b)).toEqual(['inst-1']);
    expect(nearNowUs(epoch)).toBe(true);
  });

  describe('replicas', () => {
    const state = (capacity: number, inFlight = 0) => ({ ...IDLE, capacity, inFlight, connectedAt: 1_000 });

    it('replicas with different names coexist, on any node; the same name supersedes', async () => {
      const { a, b } = stores();
      const gpuA = await a.store.claim('inst', 'gpu-a', state(4), 0);
      const gpuB = await b.store.claim('inst', 'gpu-b', state(2), 0);
      if ('tooMany' in gpuA || 'tooMany' in gpuB) throw new Error('refused');
      expect(gpuA.previous).toBeNull();
      expect(gpuB.previous).toBeNull();
      const listed = (await a.store.replicas('inst')).sort((x, y) => x.replica.localeCompare(y.replica));
      expect(listed).toEqual([
        {
          instanceId: 'inst',
          replica: 'gpu-a',
          nodeId: 'node-a',
          epoch: gpuA.epoch,
          capacity: 4,
          inFlight: 0,
          connectedAt: 1_000,
          draining: false,
        },
        {
          instanceId: 'inst',
          replica: 'gpu-b',
          nodeId: 'node-b',
          epoch: gpuB.epoch,
          capacity: 2,
          inFlight: 0,
          connectedAt: 1_000,
          draining: false,
        },
      ]);
      const again = await b.store.claim('inst', 'gpu-a', state(8), 0);
      if ('tooMany' in again) throw new Error('refused');
      expect(again).toEqual({ epoch: expect.any(Number), previous: { nodeId: 'node-a', epoch: gpuA.epoch } });
      expect(again.epoch).toBeGreaterThan(gpuA.epoch);
      expect(
        (await a.store.replicas('inst')).map((r) => `${r.replica}@${r.nodeId}#${r.epoch}`).sort(),
      ).toEqual([`gpu-a@node-b#${again.epoch}`, `gpu-b@node-b#${gpuB.epoch}`]);
      // The superseded connection's release leaves the newer record alone.
      expect(await a.store.release('inst', 'gpu-a', gpuA.epoch)).toBe(false);
      expect(await b.store.release('inst', 'gpu-a', again.epoch)).toBe(true);
      expect((await a.store.replicas('inst')).map((r) => r.replica)).toEqual(['gpu-b']);
    });

    it('refuses a new name past maxReplicas, atomically, but never an existing one', async () => {
      const { a, b } = stores();
      expect(await a.store.claim('inst', 'one', state(1), 2)).toMatchObject({ previous: null });
      expect(await b.store.claim('inst', 'two', state(1), 2)).toMatchObject({ previous: null });
      expect(await a.store.claim('inst', 'three', state(1), 2)).toEqual({ tooMany: true });
      expect(await a.store.claim('inst', 'two', state(1), 2)).toMatchObject({
        previous: { nodeId: 'node-b' },
      });
      // Nothing was written for the refused name.
      expect(await a.store.owner('inst', 'three')).toBeNull();
      expect((await a.store.replicas('inst')).length).toBe(2);
    });

    it('refresh writes the current load; an unrefreshed replica drops out of the list and frees its place', async () => {
      const { a, b } = stores(300);
      const kept = await a.store.claim('inst', 'kept', state(4), 2);
      await b.store.claim('inst', 'lapsed', state(1), 2);
      if ('tooMany' in kept) throw new Error('refused');
      const held = new Map([
        ['inst/kept', { instanceId: 'inst', replica: 'kept', epoch: kept.epoch, state: state(4, 3) }],
      ]);
      for (let i = 0; i < 4; i++) {
        await sleep(120);
        expect(await a.store.refresh(held)).toEqual([]);
      }
      expect(await b.store.replicas('inst')).toEqual([
        expect.objectContaining({ replica: 'kept', inFlight: 3 }),
      ]);
      // The lapsed name no longer counts against the limit.
      expect(await b.store.claim('inst', 'newcomer', state(1), 2)).toMatchObject({ previous: null });
    });
  });
});
