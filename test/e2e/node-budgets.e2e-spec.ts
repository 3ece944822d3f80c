import { request as httpRequest, type ClientRequest } from 'node:http';
import * as path from 'node:path';
import { TestCluster } from '../support/cluster';
import { DIST, RunningRegistry, spawnNode } from '../support/processes';
import { eventually, metricCounts, Registered } from '../support/registry-client';
import { LiveStream, readSse, startStream } from '../support/sse';

/** Small budgets; the node believes loopback's X-Forwarded-For, so the test speaks for many addresses. */
const ENV = {
  TRUST_PROXY: 'loopback',
  REGISTER_PER_IP_PER_MIN: '3',
  LIST_MAX_PAGE_NO: '5',
  CHAT_MAX_IN_FLIGHT_PER_IP: '2',
  CHAT_MAX_IN_FLIGHT: '3',
};

const from = (address: string) => ({ 'x-forwarded-for': address, 'content-type': 'application/json' });

function register(node: RunningRegistry, address: string): Promise<Response> {
  return fetch(`${node.url}/api/upload/register`, {
    method: 'POST',
    headers: from(address),
    body: JSON.stringify({ upload_name: 'budget', instance_id: null }),
  });
}

/** Chats of a node by outcome. */
const outcomes = (node: RunningRegistry) => metricCounts(node.url, 'registry_chats_total', 'outcome');

describe('node-wide budgets', () => {
  let cluster: TestCluster;
  let node: RunningRegistry;
  let instance: Registered;

  beforeAll(async () => {
    cluster = await TestCluster.embedded(ENV, 'budgets');
    node = cluster.nodes[0];
    const model = await cluster.model({ chunks: 3 });
    instance = await cluster.register();
    await cluster.agent(instance, model);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('limits registrations per address per minute (429 with Retry-After)', async () => {
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await register(node, '198.51.100.7')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await register(node, '198.51.100.7');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await register(node, '198.51.100.8')).status).toBe(200);
  });

  it('answers 422 naming page_no past its maximum', async () => {
    expect((await fetch(`${node.url}/api/upload/list?page_no=5`)).status).toBe(200);
    const res = await fetch(`${node.url}/api/upload/list?page_no=6`);
    expect(res.status).toBe(422);
    expect(await res.text()).toContain('page_no');
  });

  it('limits chats in flight per caller address (429) and per node (503), both with Retry-After', async () => {
    const url = `${node.url}/api/chat/${instance.instanceId}`;
    const hang = { messages: [{ role: 'user', content: '[hang]' }] };
    const held: LiveStream[] = [];
    const hold = async (address: string) => {
      const stream = startStream(url, hang, { 'x-forwarded-for': address });
      held.push(stream);
      await stream.firstData;
    };
    try {
      await hold('192.0.2.1');
      await hold('192.0.2.1');
      const busyAddress = await fetch(url, {
        method: 'POST',
        headers: from('192.0.2.1'),
        body: JSON.stringify(hang),
      });
      expect(busyAddress.status).toBe(429);
      expect(Number(busyAddress.headers.get('retry-after'))).toBeGreaterThan(0);

      await hold('192.0.2.2');
      const busyNode = await fetch(url, {
        method: 'POST',
        headers: from('192.0.2.3'),
        body: JSON.stringify(hang),
      });
      expect(busyNode.status).toBe(503);
      expect(Number(busyNode.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      held.forEach((s) => s.abort());
    }
    // The slots come back when the chats end.
    await eventually(async () => {
      const again = await readSse(
        url,
        { messages: [{ role: 'user', content: 'hi' }] },
        { headers: from('192.0.2.1') },
      );
      return again.status === 200 && again.done;
    }, 2_000);
  });
});

describe('node-wide budget of unread answer bytes', () => {
  let cluster: TestCluster;
  let node: RunningRegistry;
  let chatUrl: string;

  beforeAll(async () => {
    // Each request alone may leave 64 MiB unread; all of them together only 1 MiB.
    cluster = await TestCluster.embedded(
      { CHAT_MAX_BUFFERED_BYTES: String(64 * 1024 * 1024), NODE_MAX_BUFFERED_BYTES: String(1024 * 1024) },
      'buffers',
    );
    node = cluster.nodes[0];
    const script = path.join(path.dirname(DIST.fakeModel), 'big-model-main.js');
    const model = cluster.track(
      spawnNode('big-model', script, ['--chunks', '8192', '--chunk-bytes', '4096'], {}),
    );
    const { url } = JSON.parse(await model.waitFor(/"url"/, 15_000)) as { url: string };
    const instance = await cluster.register();
    await cluster.agent(instance, url);
    chatUrl = `${node.url}/api/chat/${instance.instanceId}`;
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('cuts off a caller that leaves a 32 MiB answer unread once the node holds more than its budget', async () => {
    let req: ClientRequest | undefined;
    try {
      // This caller never reads: the answer piles up in the registry's buffers.
      req = httpRequest(chatUrl, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) =>
        res.pause(),
      );
      req.on('error', () => undefined);
      req.end(JSON.stringify({ messages: [{ role: 'user', content: 'everything' }] }));
      await eventually(async () => ((await outcomes(node)).slow_reader ?? 0) === 1, 10_000, 100);
    } finally {
      req?.destroy();
    }
  });
});
