import { Redis } from 'ioredis';
import { TestCluster } from '../support/cluster';
import { RawWsClient } from '../support/raw-ws-client';
import { RedisServer } from '../support/redis-server';
import { eventually, instanceDetail, registerInstance, Registered } from '../support/registry-client';

const PRESENCE_TTL_MS = 1_000;

/**
 * Issue #20 item 3: every replica name a host ever connected with left `epoch:<id>/<name>` in Redis
 * for good (600 connects with fresh names → 600 permanent keys), and nothing bounded how often a
 * host could connect.
 */
describe('what a host that keeps connecting with fresh replica names can leave behind', () => {
  let server: RedisServer;
  let redis: Redis;
  let cluster: TestCluster;
  let instance: Registered;

  beforeAll(async () => {
    server = await RedisServer.start();
    redis = new Redis(server.url);
    cluster = await TestCluster.start({
      label: 'connects',
      nodes: 1,
      redisUrl: server.url,
      env: {
        PRESENCE_TTL_MS: String(PRESENCE_TTL_MS),
        PRESENCE_REFRESH_MS: '300',
        HOST_CONNECTS_PER_INSTANCE_PER_MIN: '30',
      },
    });
    instance = await registerInstance(cluster.nodes[0].url, 'fresh names');
  });

  afterAll(async () => {
    redis?.disconnect();
    await cluster?.stop();
    await server?.stop();
  });

  const connect = (name: string) =>
    RawWsClient.open(
      cluster.nodes[0].port,
      `/api/ws/${instance.instanceId}?password=${encodeURIComponent(instance.password)}`,
      {
        'X-Replica': name,
      },
    );

  it('refuses connects past the per-instance rate with HTTP 429', async () => {
    const refused: string[] = [];
    for (let i = 0; i < 40; i++) {
      try {
        const host = await connect(`fresh-${i}`);
        host.destroy();
      } catch (error) {
        refused.push((error as Error).message);
      }
    }
    expect(refused).toHaveLength(10);
    expect(refused[0]).toMatch(/^HTTP\/1\.1 429/);
  });

  it('leaves no key without an expiry, and none at all once the names are long gone', async () => {
    await eventually(
      async () => (await instanceDetail(cluster.nodes[0].url, instance)).status !== 'online',
      5_000,
    );
    const keys = await redis.keys(`${cluster.prefix}:*`);
    const forever: string[] = [];
    for (const key of keys)
      if ((await redis.pttl(key)) === -1 && key.includes(instance.instanceId)) forever.push(key);
    expect(forever).toEqual([]);
    // Every epoch key goes within 20 presence TTLs of its last claim.
    await eventually(
      async () => (await redis.keys(`${cluster.prefix}:*${instance.instanceId}*`)).length === 0,
      20 * PRESENCE_TTL_MS + 5_000,
      500,
    );
  });
});
