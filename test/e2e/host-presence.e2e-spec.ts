import { hostname } from 'node:os';
import WebSocket from 'ws';
import { defaultReplicaName } from '../../apps/host/src/replica-name';
import { TestCluster } from '../support/cluster';
import type { RunningRegistry } from '../support/processes';
import { eventually, instanceDetail, registerInstance } from '../support/registry-client';

const fastTimers = { WS_PING_INTERVAL_MS: '500', HEARTBEAT_FLUSH_MS: '200' };

describe('hosts connect and stay online (embedded mode)', () => {
  let cluster: TestCluster;
  let registry: RunningRegistry;
  let model: { url: string };

  beforeAll(async () => {
    cluster = await TestCluster.embedded(fastTimers);
    registry = cluster.nodes[0];
    model = await cluster.modelProcess();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('shows online within 1 s of the agent connecting and offline within 1 s of a clean close', async () => {
    const instance = await registerInstance(registry.url);
    expect((await instanceDetail(registry.url, instance)).status).toBe('registered');
    const agent = await cluster.agent(instance, model.url);
    // Without --replica, the agent runs under (and says) its machine-derived default name.
    await agent.waitFor(
      new RegExp(`instance ${instance.instanceId}, replica ${defaultReplicaName(hostname(), model.url)},`),
    );
    const toOnline = await eventually(
      async () => (await instanceDetail(registry.url, instance)).status === 'online',
      1_000,
    );
    const detail = await instanceDetail(registry.url, instance);
    expect(detail.is_connected).toBe(true);
    expect(detail.last_heartbeat).not.toBeNull();
    await agent.stop('SIGINT');
    expect(await agent.exited).toBe(0);
    const toOffline = await eventually(
      async () => (await instanceDetail(registry.url, instance)).status === 'offline',
      1_000,
    );
    console.log(`online ${toOnline} ms after "connected"; offline ${toOffline} ms after the agent exited`);
    expect(agent.output.join('\n')).not.toContain(instance.password);
  });

  it('rejects a wrong password with HTTP 401 and an unknown instance with 404, before any socket opens', async () => {
    const instance = await registerInstance(registry.url);
    const status = (url: string, headers: Record<string, string> = {}) =>
      new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(url, { headers });
        ws.on('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.on('open', () => reject(new Error('socket opened')));
        ws.on('error', () => undefined);
      });
    const base = registry.url.replace('http', 'ws');
    expect(await status(`${base}/api/ws/${instance.instanceId}?password=wrong`)).toBe(401);
    expect(await status(`${base}/api/ws/${instance.instanceId}`)).toBe(401);
    expect(
      await status(`${base}/api/ws/${instance.instanceId}`, {
        authorization: `Bearer ${instance.instanceId}:nope`,
      }),
    ).toBe(401);
    expect(await status(`${base}/api/ws/doesnotexist99?password=x`)).toBe(404);
    expect(registry.proc.output.join('\n')).not.toMatch(/password=/);
  });

  it('accepts a stock Second Me client: query-string password, JSON heartbeats, no hello', async () => {
    const instance = await registerInstance(registry.url);
    const ws = new WebSocket(
      `${registry.url.replace('http', 'ws')}/api/ws/${instance.instanceId}?password=${instance.password}`,
    );
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const ack = new Promise<string>((resolve) => ws.once('message', (data) => resolve(data.toString())));
    ws.send(
      JSON.stringify({
        type: 'heartbeat',
        data: { timestamp: Date.now() / 1000, instance_id: instance.instanceId, status: 'alive' },
        version: '1.0',
      }),
    );
    expect(JSON.parse(await ack)).toEqual({ type: 'heartbeat_ack' });
    ws.send('this is not json');
    ws.send(JSON.stringify({ type: 'something_new', x: 1 }));
    await eventually(async () => (await instanceDetail(registry.url, instance)).status === 'online', 1_000);
    ws.close();
    await eventually(async () => (await instanceDetail(registry.url, instance)).status === 'offline', 1_000);
  });

  it('lets exactly one of two agents with the same credentials own the instance, and tells the other why', async () => {
    const instance = await registerInstance(registry.url);
    const first = await cluster.agent(instance, model.url);
    const second = await cluster.agent(instance, model.url);
    expect(await first.exited).toBe(1);
    expect(first.output.join('\n')).toMatch(/another agent/i);
    expect(second.running).toBe(true);
    expect((await instanceDetail(registry.url, instance)).status).toBe('online');
    await second.stop();
  });

  it('drops a peer that stops answering pings within two ping intervals', async () => {
    const instance = await registerInstance(registry.url);
    const ws = new WebSocket(
      `${registry.url.replace('http', 'ws')}/api/ws/${instance.instanceId}?password=${instance.password}`,
      {
        autoPong: false,
      },
    );
    await new Promise((resolve) => ws.once('open', resolve));
    await eventually(async () => (await instanceDetail(registry.url, instance)).status === 'online', 1_000);
    const closed = new Promise<number>((resolve) => ws.once('close', () => resolve(Date.now())));
    const start = Date.now();
    const at = await closed;
    expect(at - start).toBeLessThanOrEqual(2 * 500 + 300);
    await eventually(async () => (await instanceDetail(registry.url, instance)).status === 'offline', 1_000);
  });
});

describe('presence across nodes (distributed mode, real Redis and PostgreSQL)', () => {
  let cluster: TestCluster;
  let nodeA: RunningRegistry;
  let nodeB: RunningRegistry;
  let model: { url: string };

  beforeAll(async () => {
    const env = { PRESENCE_TTL_MS: '3000', PRESENCE_REFRESH_MS: '1000', ...fastTimers };
    cluster = await TestCluster.start({ label: 'presence', nodes: 2, env });
    [nodeA, nodeB] = cluster.nodes;
    model = await cluster.modelProcess();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('reports online through node B for an agent on node A; after SIGKILL of A the agent is back via B within 5 s', async () => {
    const instance = await registerInstance(nodeA.url);
    const agent = await cluster.agent(instance, model.url, { allNodes: true });
    await agent.waitFor(new RegExp(`connected to ${nodeA.url}`));
    await eventually(async () => (await instanceDetail(nodeB.url, instance)).status === 'online', 1_000);

    const from = agent.output.length;
    const killedAt = Date.now();
    nodeA.proc.signal('SIGKILL');
    await agent.waitFor(new RegExp(`connected to ${nodeB.url}`), 5_000, from);
    const reconnected = Date.now() - killedAt;
    // Until node A's record expires, B cannot know whether A still holds a socket; the new claim replaces it at once.
    await eventually(
      async () => (await instanceDetail(nodeB.url, instance)).status === 'online',
      5_000 - reconnected,
    );
    console.log(`agent reconnected through node B ${reconnected} ms after node A was killed`);
  });

  it('never reports online longer than the presence TTL after the holding node dies', async () => {
    const nodeC = await cluster.addNode('node-c');
    const instance = await registerInstance(nodeC.url);
    // A stock client does not reconnect: only the node that dies ever holds its socket.
    const ws = new WebSocket(
      `${nodeC.url.replace('http', 'ws')}/api/ws/${instance.instanceId}?password=${instance.password}`,
    );
    ws.on('error', () => undefined);
    await new Promise((resolve) => ws.once('open', resolve));
    await eventually(async () => (await instanceDetail(nodeB.url, instance)).status === 'online', 1_000);
    const killedAt = Date.now();
    nodeC.proc.signal('SIGKILL');
    await eventually(
      async () => (await instanceDetail(nodeB.url, instance)).status === 'offline',
      3_000 + 1_000,
    );
    console.log(`ghost presence ended ${Date.now() - killedAt} ms after the holding node died (TTL 3000 ms)`);
    ws.terminate();
  });
});
