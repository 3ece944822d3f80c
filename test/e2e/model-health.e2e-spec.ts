import type { Envelope, InstanceCard, InstanceList } from '@app/contracts';
import { describeChat, steadyLoad } from '../support/chat-load';
import { TestCluster } from '../support/cluster';
import { startFakeModel, type FakeModel } from '../support/fake-model-server';
import type { RunningRegistry, TestProcess } from '../support/processes';
import { eventually, instanceDetail, type Registered } from '../support/registry-client';
import { freePort } from '../support/redis-server';

interface ChatAnswer {
  status: number;
  code: string | undefined;
  message: string;
  retryAfter: string | null;
}

/** A non-streaming chat, read to its end. */
async function ask(url: string): Promise<ChatAnswer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'are you there?' }], stream: false }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json()) as { error?: { code?: string; message?: string } };
  return {
    status: res.status,
    code: body.error?.code,
    message: body.error?.message ?? '',
    retryAfter: res.headers.get('retry-after'),
  };
}

/**
 * Issue #22 item 3: the model's health is part of "online". Real processes: two registry nodes
 * (PostgreSQL, Redis), real agents, fake model servers this test stops and starts again.
 */
describe('model health: an agent whose model server stops', () => {
  let cluster: TestCluster;
  let nodeA: RunningRegistry;
  let nodeB: RunningRegistry;
  const models: FakeModel[] = [];

  beforeAll(async () => {
    // A short hold: a chat with every model down waits this long for one to come back.
    cluster = await TestCluster.start({ label: 'health', nodes: 2, env: { CHAT_HOLD_MS: '3000' } });
    [nodeA, nodeB] = cluster.nodes;
  });

  afterAll(async () => {
    await Promise.all(models.map((m) => m.close()));
    await cluster?.stop();
  });

  const model = async (port?: number) => {
    const started = await startFakeModel({ port, models: ['m1'] });
    models.push(started);
    return started;
  };
  const chatUrl = (node: RunningRegistry, instance: Registered) =>
    `${node.url}/api/chat/${instance.instanceId}`;
  const statusesVia = async (node: RunningRegistry, instance: Registered) =>
    Object.fromEntries(
      ((await instanceDetail(node.url, instance)).replicas ?? []).map((r) => [r.name, r.model_status]),
    );
  const listed = async (node: RunningRegistry, instance: Registered) => {
    const res = await fetch(`${node.url}/api/upload/list?page_size=100`);
    const text = await res.text();
    const item = (JSON.parse(text) as Envelope<InstanceList>).data!.items.find(
      (i) => i.instance_id === instance.instanceId,
    );
    return { text, item };
  };
  const card = async (node: RunningRegistry, instance: Registered) => {
    const res = await fetch(`${node.url}/api/console/instances/${instance.instanceId}`);
    const text = await res.text();
    return { text, card: (JSON.parse(text) as Envelope<InstanceCard>).data! };
  };

  it('the upstream stopped: within 15 s the owner sees `unreachable` and callers get 503 model_unreachable; restarted: ok and chats flow, same agent', async () => {
    const port = await freePort();
    const upstream = await model(port);
    const instance = await cluster.register('one model');
    // The agent's defaults: a probe every 5 s.
    const agent: TestProcess = await cluster.agent(instance, upstream, { replica: 'solo' });
    await eventually(async () => (await statusesVia(nodeB, instance)).solo === 'ok', 10_000);
    expect((await ask(chatUrl(nodeB, instance))).status).toBe(200);
    expect((await listed(nodeB, instance)).item).toMatchObject({ status: 'online', model_reachable: true });

    await upstream.close();
    const stoppedAt = Date.now();
    await eventually(async () => (await statusesVia(nodeB, instance)).solo === 'unreachable', 15_000);
    const seenAfterMs = Date.now() - stoppedAt;
    for (const node of [nodeA, nodeB]) {
      const detail = await instanceDetail(node.url, instance);
      expect(detail).toMatchObject({ status: 'online', model_reachable: false });
      expect(detail.replicas![0].model_detail).toMatch(/^GET \/models: .*ECONNREFUSED/);
    }

    for (const node of [nodeA, nodeB]) {
      const answer = await ask(chatUrl(node, instance));
      expect(answer).toMatchObject({ status: 503, code: 'model_unreachable', retryAfter: '5' });
      // The caller learns what is wrong, never where the model runs.
      expect(answer.message).toMatch(/model server is not answering/);
      expect(answer.message).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|:\d{4,5}\b/);
    }
    // The public views say it without the agent's words.
    await eventually(async () => (await listed(nodeB, instance)).item?.model_reachable === false, 5_000);
    const list = await listed(nodeA, instance);
    expect(list.item).toMatchObject({ status: 'online', model_reachable: false });
    const shown = await card(nodeA, instance);
    expect(shown.card).toMatchObject({ status: 'online', model_reachable: false });
    for (const text of [list.text, shown.text]) {
      expect(text).not.toMatch(/ECONNREFUSED|GET \/models|model_detail/);
      expect(text).not.toContain(String(port));
    }

    const again = await model(port);
    await eventually(async () => (await statusesVia(nodeB, instance)).solo === 'ok', 15_000);
    for (const node of [nodeA, nodeB]) expect((await ask(chatUrl(node, instance))).status).toBe(200);
    expect(again.requests.some((r) => r.path === '/v1/chat/completions')).toBe(true);
    await eventually(async () => (await listed(nodeA, instance)).item?.model_reachable === true, 5_000);
    // One connection all along: the agent never restarted or reconnected for it.
    expect(agent.running).toBe(true);
    expect(agent.output.filter((l) => l.includes('connected to ')).length).toBe(1);
    console.log(`model health: the owner saw 'unreachable' ${seenAfterMs} ms after the model stopped`);
  });

  it('a chat that arrives while every model is down waits (CHAT_HOLD_MS) and is served the moment one is back', async () => {
    const port = await freePort();
    const upstream = await model(port);
    const instance = await cluster.register('held while down');
    await cluster.agent(instance, upstream, { replica: 'solo', env: { HOST_HEALTH_INTERVAL: '1' } });
    await eventually(async () => (await statusesVia(nodeA, instance)).solo === 'ok', 10_000);
    await upstream.close();
    await eventually(async () => (await statusesVia(nodeA, instance)).solo === 'unreachable', 5_000);
    const sentAt = Date.now();
    const answer = ask(chatUrl(nodeB, instance));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await model(port);
    expect((await answer).status).toBe(200);
    // Within the 3 s hold: woken by the agent's word (its next probe), not by the hold's end.
    expect(Date.now() - sentAt).toBeLessThan(2_500);
  });

  it('two replicas, one model stopped under load: 0 failed chats, and once every node knows, the stopped one is sent nothing', async () => {
    const [one, two] = [await model(), await model()];
    const instance = await cluster.register('two models');
    const agentOne = await cluster.agent(instance, one, {
      replica: 'one',
      node: nodeA,
      env: { HOST_HEALTH_INTERVAL: '1' },
    });
    await cluster.agent(instance, two, { replica: 'two', node: nodeB, env: { HOST_HEALTH_INTERVAL: '1' } });
    await eventually(async () => {
      const statuses = await statusesVia(nodeA, instance);
      return statuses.one === 'ok' && statuses.two === 'ok';
    }, 10_000);

    const urls = [nodeA, nodeB, nodeA, nodeB].map((n) => chatUrl(n, instance));
    const load = steadyLoad(urls);
    await eventually(() => load.results.length >= 20, 10_000);
    const chatsOnOne = () => one.requests.filter((r) => r.path === '/v1/chat/completions').length;
    expect(chatsOnOne()).toBeGreaterThan(0);
    await one.stop();
    await eventually(async () => {
      const [a, b] = await Promise.all([statusesVia(nodeA, instance), statusesVia(nodeB, instance)]);
      return a.one === 'unreachable' && b.one === 'unreachable';
    }, 5_000);
    // A chat sent just before the word arrived may still reach agent one and fail over: let it end.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const agentOneLines = agentOne.output.length;
    const before = load.results.length;
    await eventually(() => load.results.length >= before + 40, 15_000);
    await load.stop();
    // Once every node knew, agent one was sent nothing (before this change each chat tried it first
    // about half the time, failed there and moved: no failed chat, but a wasted attempt).
    expect(agentOne.output.slice(agentOneLines).filter((l) => /request \S+ (failed|done)/.test(l))).toEqual(
      [],
    );

    const failed = load.results.filter((c) => c.end.status !== 200 || !c.end.done || c.timedOut);
    expect(failed.map(describeChat)).toEqual([]);
    expect(load.results.length).toBeGreaterThanOrEqual(60);
    const detail = await instanceDetail(nodeB.url, instance);
    expect(detail.model_reachable).toBe(true);
  });
});
