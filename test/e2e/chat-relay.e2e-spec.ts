import OpenAI from 'openai';
import WebSocket from 'ws';
import type { FakeModel } from '../support/fake-model-server';
import { TestCluster } from '../support/cluster';
import type { RunningRegistry } from '../support/processes';
import { eventually, registerInstance, Registered } from '../support/registry-client';
import { contentOf, readSse } from '../support/sse';

const messages = [{ role: 'user', content: 'Say hello' }];

describe('chat relay across two registry nodes (real Redis, PostgreSQL, agent)', () => {
  let cluster: TestCluster;
  let nodeA: RunningRegistry;
  let nodeB: RunningRegistry;
  let model: FakeModel;
  let instance: Registered;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      label: 'chat',
      nodes: 2,
      // 503 at once for an instance with no replica (the hold has its own tests).
      env: { CHAT_KEEPALIVE_MS: '300', CHAT_HOLD_MS: '0' },
    });
    [nodeA, nodeB] = cluster.nodes;
    model = await cluster.model({ chunks: 8, delayMs: 20, models: ['fake-model', 'announced-in-hello'] });
    instance = await cluster.register();
    await cluster.agent(instance, model);
    await cluster.waitOnline(instance, { via: [nodeB] });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  const chatUrl = (node: RunningRegistry, id = instance.instanceId) => `${node.url}/api/chat/${id}`;

  it.each([
    ['the node holding the host (fast path)', () => nodeA],
    ['the other node (through Redis)', () => nodeB],
  ])('streams chunk by chunk and ends with [DONE] via %s', async (_label, node) => {
    const result = await readSse(chatUrl(node()), { messages });
    expect(result.status).toBe(200);
    expect(result.headers.get('content-type')).toContain('text/event-stream');
    expect(result.done).toBe(true);
    expect(result.data.length).toBeGreaterThanOrEqual(8);
    expect(contentOf(result.data)).toBe('Hello from the fake model.Hello from');
    // Paced at 20 ms by the model: the chunks must arrive spread out, not in one buffered lump.
    const spread = result.arrivals[result.arrivals.length - 1] - result.arrivals[0];
    expect(spread).toBeGreaterThan(100);
  });

  it('works with the official OpenAI SDK: stream true, stream false, stream left out, and models.list', async () => {
    for (const node of [nodeA, nodeB]) {
      const client = new OpenAI({ apiKey: 'unused', baseURL: chatUrl(node), maxRetries: 0 });
      const stream = await client.chat.completions.create({
        model: 'fake-model',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      expect(text).toBe('Hello from the fake model.Hello from');

      const full = await client.chat.completions.create({
        model: 'fake-model',
        messages: [{ role: 'user', content: 'hi' }],
        stream: false,
      });
      expect(full.object).toBe('chat.completion');
      expect(full.choices[0].message.content).toBe('Hello from the fake model.Hello from');
      expect(full.choices[0].finish_reason).toBe('stop');
      expect(full.usage?.total_tokens).toBeGreaterThan(0);

      const omitted = await client.chat.completions.create({
        model: 'fake-model',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(omitted.choices[0].message.content).toBe('Hello from the fake model.Hello from');

      // 'announced-in-hello' only reaches the registry through the agent's hello frame, recorded a
      // moment after the host shows online (and a node may have read the models just before: its
      // cache holds them for up to a second), so the list is read until it names it.
      const ids = async () => (await client.models.list()).data.map((m) => m.id);
      await eventually(async () => (await ids()).includes('announced-in-hello'), 5_000);
      expect(await ids()).toEqual(expect.arrayContaining(['fake-model', 'announced-in-hello']));
    }
  });

  it('answers 404 for an unknown instance, 503 with Retry-After when offline, 422 naming the field', async () => {
    const unknown = await fetch(`${chatUrl(nodeB, 'nosuchinstance1')}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages }),
    });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('x-should-retry')).toBe('false');
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('instance_not_found');

    const offline = await registerInstance(nodeA.url, 'never connected');
    const notConnected = await fetch(chatUrl(nodeB, offline.instanceId), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages }),
    });
    expect(notConnected.status).toBe(503);
    expect(notConnected.headers.get('retry-after')).toBeTruthy();

    for (const [body, field] of [
      [{ messages, temperature: 3 }, 'temperature'],
      [{ messages: [] }, 'messages'],
      [{ messages, max_tokens: 'x' }, 'max_tokens'],
    ] as const) {
      const res = await fetch(chatUrl(nodeB), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(422);
      const error = ((await res.json()) as { error: { param: string; message: string } }).error;
      expect(error.param).toBe(field);
      expect(error.message).toContain(field);
    }
  });

  it('passes extra fields to the host unchanged', async () => {
    const extraFields = {
      model: 'fake-model',
      tools: [
        { type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } },
      ],
      extendData: { nested: { a: [1, 2, 3] } },
      stream_options: { include_usage: true },
      top_p: 0.5,
    };
    const before = model.requests.length;
    const result = await readSse(chatUrl(nodeB), {
      messages,
      metadata: { role_id: 'r1', enable_l0_retrieval: true },
      ...extraFields,
    });
    expect(result.done).toBe(true);
    const last = JSON.parse(result.data[result.data.length - 1]) as { choices: unknown[]; usage?: unknown };
    expect(last.choices).toEqual([]);
    expect(last.usage).toBeDefined();
    const received = model.requests.slice(before).find((r) => r.path.endsWith('/chat/completions'))!
      .body as Record<string, unknown>;
    expect(received).toMatchObject({
      ...extraFields,
      messages,
      metadata: { role_id: 'r1', enable_l0_retrieval: true },
      temperature: 0.7,
      max_tokens: 2000,
      stream: true,
    });
  });

  it.each([
    ['fast path', () => nodeA],
    ['through Redis', () => nodeB],
  ])(
    'closes the model’s upstream request within 1 s when the caller disconnects (%s)',
    async (_label, node) => {
      const controller = new AbortController();
      const aborted = model.nextAbort(5_000);
      const res = await fetch(chatUrl(node()), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'please [hang]' }] }),
        signal: controller.signal,
      });
      const reader = res.body!.getReader();
      await reader.read();
      const disconnectedAt = Date.now();
      controller.abort();
      const event = await aborted;
      const delay = event.at - disconnectedAt;
      console.log(`caller disconnect reached the model server after ${delay} ms (${_label})`);
      expect(delay).toBeLessThan(1_000);
    },
  );

  it('reports an error event and no [DONE] when the agent dies mid-stream', async () => {
    const spare = await cluster.register('dies');
    const dying = await cluster.agent(spare, model);
    await cluster.waitOnline(spare, { via: [nodeB] });
    const started = Date.now();
    const pending = readSse(chatUrl(nodeB, spare.instanceId), {
      messages: [{ role: 'user', content: '[hang]' }],
    });
    await new Promise((r) => setTimeout(r, 300));
    dying.signal('SIGKILL');
    const result = await pending;
    const elapsed = Date.now() - started;
    expect(result.done).toBe(false);
    const last = JSON.parse(result.data[result.data.length - 1]) as { error?: { code: string } };
    expect(last.error?.code).toBe('host_disconnected');
    expect(elapsed).toBeLessThan(3_000);
  });

  it('serves a stock Second Me host (no hello, one request at a time), including two requests at once', async () => {
    const stock = await registerInstance(nodeA.url, 'stock');
    const ws = new WebSocket(
      `${nodeA.url.replace('http', 'ws')}/api/ws/${stock.instanceId}?password=${stock.password}`,
    );
    await new Promise((resolve) => ws.once('open', resolve));
    let busy = false;
    let overlapped = false;
    const queue: Array<{ request_id: string; request: { messages: Array<{ content: string }> } }> = [];
    const serve = async () => {
      while (queue.length) {
        const frame = queue.shift()!;
        if (busy) overlapped = true;
        busy = true;
        const word = frame.request.messages[0].content;
        for (const piece of [word, ' done']) {
          await new Promise((r) => setTimeout(r, 30));
          const chunk = {
            id: 'x',
            object: 'chat.completion.chunk',
            created: 1,
            model: 'stock',
            choices: [{ index: 0, delta: { content: piece }, finish_reason: null }],
          };
          ws.send(
            JSON.stringify({
              type: 'chat_response',
              request_id: frame.request_id,
              raw_sse: JSON.stringify(chunk),
              done: false,
            }),
          );
        }
        ws.send(JSON.stringify({ type: 'chat_response', request_id: frame.request_id, done: true }));
        busy = false;
      }
    };
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as {
        type: string;
        request_id: string;
        request: { messages: Array<{ content: string }>; stream: boolean };
      };
      if (frame.type !== 'chat') return;
      expect(frame.request.stream).toBe(true);
      if (busy) overlapped = true;
      queue.push(frame);
      if (queue.length === 1 && !busy) void serve();
    });
    await cluster.waitOnline(stock, { via: [nodeB] });
    const [one, two] = await Promise.all([
      readSse(chatUrl(nodeB, stock.instanceId), { messages: [{ role: 'user', content: 'first' }] }),
      readSse(chatUrl(nodeA, stock.instanceId), { messages: [{ role: 'user', content: 'second' }] }),
    ]);
    expect(overlapped).toBe(false);
    expect([one.done, two.done]).toEqual([true, true]);
    expect(contentOf(one.data)).toBe('first done');
    expect(contentOf(two.data)).toBe('second done');
    ws.close();
  });
});
