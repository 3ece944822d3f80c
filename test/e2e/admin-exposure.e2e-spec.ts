import { TestCluster } from '../support/cluster';
import { RawWsClient } from '../support/raw-ws-client';
import { RedisServer } from '../support/redis-server';
import { eventually, registerInstance, Registered } from '../support/registry-client';

interface ClusterView {
  online_instances: number;
  online_instances_with_private: number;
  problem: string | null;
  nodes: Array<{ node_id: string }>;
}

/**
 * Issue #20 item 12: without ADMIN_TOKEN the cluster view was open to anyone, counted private
 * instances in its public figure, and answered 500 while Redis was down.
 */
describe('GET /api/admin/cluster without ADMIN_TOKEN (two nodes, a private Redis)', () => {
  let server: RedisServer;
  let cluster: TestCluster;
  const hosts: RawWsClient[] = [];

  beforeAll(async () => {
    server = await RedisServer.start();
    // Behind a proxy on loopback: the client's address is what X-Forwarded-For says.
    cluster = await TestCluster.start({
      label: 'adminview',
      nodes: 2,
      redisUrl: server.url,
      env: { TRUST_PROXY: 'loopback' },
    });
  });

  afterAll(async () => {
    for (const host of hosts) host.destroy();
    await cluster?.stop();
    await server?.stop();
  });

  const view = (headers: Record<string, string> = {}) =>
    fetch(`${cluster.nodes[1].url}/api/admin/cluster`, { headers });

  const connect = async (instance: Registered) =>
    hosts.push(
      await RawWsClient.open(
        cluster.nodes[0].port,
        `/api/ws/${instance.instanceId}?password=${encodeURIComponent(instance.password)}`,
      ),
    );

  it('answers a caller on this machine, and refuses anyone else with 403 naming ADMIN_TOKEN', async () => {
    expect((await view()).status).toBe(200);
    const remote = await view({ 'x-forwarded-for': '203.0.113.7' });
    expect(remote.status).toBe(403);
    expect(((await remote.json()) as { message: string }).message).toContain('ADMIN_TOKEN');
  });

  it('leaves private instances out of its public figure', async () => {
    const shown = await registerInstance(cluster.nodes[0].url, 'public one');
    const hidden = await registerInstance(cluster.nodes[0].url, 'private one');
    const made = await fetch(`${cluster.nodes[0].url}/api/upload/${hidden.instanceId}`, {
      method: 'PUT',
      headers: { authorization: hidden.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ visibility: 'private' }),
    });
    expect(made.status).toBe(200);
    await connect(shown);
    await connect(hidden);
    // The two figures are separate reads, each cached for up to a second (DIRECTORY_CACHE_MS): wait
    // until both show both hosts, then the public one must still leave the private instance out.
    let seen: ClusterView | undefined;
    await eventually(async () => {
      seen = (await (await view()).json()) as ClusterView;
      return seen.online_instances_with_private === 2 && seen.online_instances >= 1;
    }, 5_000);
    expect(seen!.online_instances).toBe(1);
    // A second later (both caches renewed) it still says 1.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(((await (await view()).json()) as ClusterView).online_instances).toBe(1);
  });

  it('answers honestly while Redis is down: 200, the figures it has, and what it could not read', async () => {
    await server.kill();
    const res = await view();
    expect(res.status).toBe(200);
    const seen = (await res.json()) as ClusterView;
    expect(seen.problem).toMatch(/Redis/);
    expect(seen.nodes.length).toBeGreaterThanOrEqual(1);
    expect(typeof seen.online_instances).toBe('number');
    await server.start();
  });
});
