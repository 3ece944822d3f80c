import { request as httpRequest } from 'node:http';
import { RunningRegistry, startRegistry } from '../support/processes';
import { registerInstance, Registered } from '../support/registry-client';

const LIMITS = { AUTH_FAILURES_PER_IP_PER_MIN: '3', AUTH_FAILURES_PER_INSTANCE_PER_MIN: '0' };

/** A REST call with a wrong password, "from" `forwardedFor`; resolves the status. */
async function wrongRest(node: RunningRegistry, instance: Registered, forwardedFor: string): Promise<number> {
  const res = await fetch(`${node.url}/api/upload/${instance.instanceId}`, {
    method: 'PUT',
    headers: {
      authorization: `Bearer ${instance.instanceId}:wrong-password`,
      'content-type': 'application/json',
      'x-forwarded-for': forwardedFor,
    },
    body: JSON.stringify({ description: 'x' }),
  });
  await res.arrayBuffer();
  return res.status;
}

/** A host upgrade with a wrong password, "from" `forwardedFor`; resolves the HTTP status. */
function wrongUpgrade(node: RunningRegistry, instance: Registered, forwardedFor: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${node.url}/api/ws/${instance.instanceId}`, {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        authorization: `Bearer ${instance.instanceId}:wrong-password`,
        'x-forwarded-for': forwardedFor,
      },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('upgrade', () => reject(new Error('upgrade accepted with a wrong password')));
    req.on('error', reject);
    req.end();
  });
}

describe('client addresses behind a proxy (TRUST_PROXY)', () => {
  let trusting: RunningRegistry;
  let plain: RunningRegistry;

  beforeAll(async () => {
    [trusting, plain] = await Promise.all([
      startRegistry({ ...LIMITS, TRUST_PROXY: 'loopback' }, 'trusting'),
      startRegistry({ ...LIMITS }, 'plain'),
    ]);
  });
  afterAll(async () => {
    await Promise.all([trusting?.proc.stop(), plain?.proc.stop()]);
  });

  it('with TRUST_PROXY, limits count the forwarded client, on REST and on the host upgrade alike', async () => {
    const instance = await registerInstance(trusting.url);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await wrongRest(trusting, instance, '203.0.113.1'));
    // The fourth failure from the same client is refused, on either door.
    statuses.push(await wrongRest(trusting, instance, '203.0.113.1'));
    statuses.push(await wrongUpgrade(trusting, instance, '203.0.113.1'));
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    // Another client behind the same proxy is not punished for it.
    expect(await wrongUpgrade(trusting, instance, '203.0.113.2')).toBe(401);
    expect(await wrongRest(trusting, instance, '203.0.113.2')).toBe(401);
  });

  it('without TRUST_PROXY, X-Forwarded-For is ignored (a client cannot dodge a limit with it)', async () => {
    const instance = await registerInstance(plain.url);
    const statuses = [];
    for (const client of ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4'])
      statuses.push(await wrongRest(plain, instance, client));
    statuses.push(await wrongUpgrade(plain, instance, '198.51.100.5'));
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
  });
});
