import { request as httpRequest } from 'node:http';
import { RunningRegistry, startRegistry } from '../support/processes';
import { metricCounts, registerInstance, Registered } from '../support/registry-client';

/** The node believes loopback's X-Forwarded-For, so one test process can speak for many addresses. */
const ENV = {
  TRUST_PROXY: 'loopback',
  AUTH_FAILURES_PER_IP_PER_MIN: '3',
  AUTH_FAILURES_PER_INSTANCE_PER_MIN: '0',
};

/** GET the instance's detail with `password`, "from" `client`; resolves the status. */
async function rest(node: RunningRegistry, instance: Registered, password: string, client: string) {
  const res = await fetch(`${node.url}/api/upload/${instance.instanceId}`, {
    headers: { authorization: `Bearer ${instance.instanceId}:${password}`, 'x-forwarded-for': client },
  });
  await res.arrayBuffer();
  return res.status;
}

/** A host upgrade with `password`, "from" `client`; resolves the HTTP status (101 when accepted). */
function upgrade(node: RunningRegistry, instance: Registered, password: string, client: string) {
  return new Promise<number>((resolve, reject) => {
    const req = httpRequest(`${node.url}/api/ws/${instance.instanceId}`, {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        authorization: `Bearer ${instance.instanceId}:${password}`,
        'x-forwarded-for': client,
      },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Host upgrades a node refused, by HTTP status. */
const rejectedUpgrades = (node: RunningRegistry) =>
  metricCounts(node.url, 'registry_ws_rejected_upgrades_total', 'status');

describe('failed authentications from a shared address', () => {
  let node: RunningRegistry;

  beforeAll(async () => {
    node = await startRegistry(ENV, 'auth');
  });
  afterAll(async () => {
    await node?.proc.stop();
  });

  it('a flood of wrong passwords does not lock the owner out: correct credentials pass on REST and the upgrade', async () => {
    const instance = await registerInstance(node.url);
    const shared = '203.0.113.9';
    const wrong: number[] = [];
    for (let i = 0; i < 10; i++)
      wrong.push(await (i % 2 ? upgrade : rest)(node, instance, `wrong-${i}`, shared));
    expect(wrong.slice(0, 3)).toEqual([401, 401, 401]);
    expect(new Set(wrong.slice(3))).toEqual(new Set([429]));

    expect(await rest(node, instance, instance.password, shared)).toBe(200);
    expect(await upgrade(node, instance, instance.password, shared)).toBe(101);
    // The failures still count: the next wrong password from that address is still refused.
    expect(await rest(node, instance, 'wrong-again', shared)).toBe(429);
  });

  it('counts IPv6 clients by /64: two addresses of one network share a limit, another network does not', async () => {
    const instance = await registerInstance(node.url);
    const statuses: number[] = [];
    for (const client of ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2:aaaa::3'])
      statuses.push(await rest(node, instance, 'wrong', client));
    statuses.push(await upgrade(node, instance, 'wrong', '2001:db8:1:2:ffff:ffff:ffff:ffff'));
    statuses.push(await rest(node, instance, 'wrong', '2001:db8:1:3::1'));
    expect(statuses).toEqual([401, 401, 401, 429, 401]);
  });

  it('reports refused host upgrades on /metrics by HTTP status', async () => {
    const instance = await registerInstance(node.url);
    const before = await rejectedUpgrades(node);
    const client = '198.51.100.7';
    expect(await upgrade(node, instance, 'wrong-1', client)).toBe(401);
    expect(await upgrade(node, instance, 'wrong-2', client)).toBe(401);
    expect(await upgrade(node, instance, instance.password, client)).toBe(101);
    const after = await rejectedUpgrades(node);
    expect((after['401'] ?? 0) - (before['401'] ?? 0)).toBe(2);
  });
});
