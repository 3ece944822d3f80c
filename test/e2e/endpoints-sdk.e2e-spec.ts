import Anthropic from '@anthropic-ai/sdk';
import { OpenAIEmbeddings } from '@langchain/openai';
import OpenAI from 'openai';
import { createKey, updateInstance, usage } from '../support/access-keys';
import { TestCluster } from '../support/cluster';
import type { FakeModel } from '../support/fake-model-server';
import type { RunningRegistry } from '../support/processes';
import { RawWsClient } from '../support/raw-ws-client';
import { eventually, instanceDetail, Registered } from '../support/registry-client';

const WORDS = 'Hello from the fake';

/**
 * The model server's other endpoints through the instance's URL with the official SDKs: a public
 * instance with two replicas (one per node), a private one called with its key through the node
 * that does not hold its host, and a stock Second Me host that serves chat only.
 */
describe('embeddings, completions, Responses and Anthropic Messages with the real SDKs (two nodes)', () => {
  let cluster: TestCluster;
  let nodeA: RunningRegistry;
  let nodeB: RunningRegistry;
  let model: FakeModel;
  let open: Registered;
  let closed: Registered;
  let key: string;
  let keyId: string;

  beforeAll(async () => {
    cluster = await TestCluster.start({ label: 'endpoints', nodes: 2, env: { USAGE_FLUSH_MS: '200' } });
    [nodeA, nodeB] = cluster.nodes;
    model = await cluster.model({ chunks: 4, delayMs: 5 });
    open = await cluster.register('open');
    await cluster.agent(open, model, { replica: 'a', node: nodeA });
    await cluster.agent(open, model, { replica: 'b', node: nodeB });
    closed = await cluster.register('closed');
    await updateInstance(nodeA.url, closed, { visibility: 'private' });
    const issued = await createKey(nodeA.url, closed, { name: 'sdk' });
    key = issued.key;
    keyId = issued.key_id;
    await cluster.agent(closed, model, { node: nodeA });
    await cluster.waitOnline(open);
    await cluster.waitOnline(closed);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  const base = (node: RunningRegistry, id: string) => `${node.url}/api/chat/${id}`;
  const cases = () =>
    [
      { label: 'a public instance with two replicas', url: base(nodeA, open.instanceId), apiKey: 'unused' },
      {
        label: 'a private instance, with its key, across nodes',
        url: base(nodeB, closed.instanceId),
        apiKey: key,
      },
    ] as const;

  it.each([0, 1])(
    'OpenAI SDK: embeddings, completions and responses, streamed and not (case %i)',
    async (i) => {
      const { url, apiKey } = cases()[i];
      const client = new OpenAI({ baseURL: url, apiKey, maxRetries: 0 });

      const embeddings = await client.embeddings.create({ model: 'fake-model', input: ['one', 'two'] });
      expect(embeddings.data).toHaveLength(2);
      expect(embeddings.data[0].embedding).toHaveLength(8);
      expect(embeddings.usage.prompt_tokens).toBeGreaterThan(0);

      const completion = await client.completions.create({ model: 'fake-model', prompt: 'Say' });
      expect(completion.choices[0].text).toBe(WORDS);

      let streamed = '';
      for await (const chunk of await client.completions.create({
        model: 'fake-model',
        prompt: 'Say',
        stream: true,
      }))
        streamed += chunk.choices[0]?.text ?? '';
      expect(streamed).toBe(WORDS);

      const response = await client.responses.create({ model: 'fake-model', input: 'Say' });
      expect(response.output_text).toBe(WORDS);

      let deltas = '';
      let completed = false;
      for await (const event of await client.responses.create({
        model: 'fake-model',
        input: 'Say',
        stream: true,
      })) {
        if (event.type === 'response.output_text.delta') deltas += event.delta;
        if (event.type === 'response.completed') completed = true;
      }
      expect(deltas).toBe(WORDS);
      expect(completed).toBe(true);
    },
  );

  it.each([0, 1])('Anthropic SDK: messages.create and messages.stream (case %i)', async (i) => {
    const { url, apiKey } = cases()[i];
    const client = new Anthropic({ baseURL: url, apiKey, maxRetries: 0 });
    const message = await client.messages.create({
      model: 'fake-model',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'Say hello' }],
    });
    expect(message.content[0]).toMatchObject({ type: 'text', text: WORDS });
    expect(message.usage.output_tokens).toBe(4);

    const stream = client.messages.stream({
      model: 'fake-model',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'Say hello' }],
    });
    let text = '';
    stream.on('text', (delta) => (text += delta));
    const final = await stream.finalMessage();
    expect(text).toBe(WORDS);
    expect(final.stop_reason).toBe('end_turn');
    // The SDK's version header reaches the model server; the caller's key does not.
    const upstream = model.requests.filter((r) => r.path === '/v1/messages').at(-1)!;
    expect(upstream.headers['anthropic-version']).toBeDefined();
    expect(upstream.headers['x-api-key']).toBeUndefined();
  });

  it("lists the endpoints each instance serves in the owner's detail (from the agent's hello)", async () => {
    expect((await instanceDetail(nodeB.url, open)).endpoints).toEqual([
      'chat',
      'embeddings',
      'completions',
      'responses',
      'messages',
      'rerank',
    ]);
  });

  it("LangChain's OpenAIEmbeddings embeds documents and a query through the private instance", async () => {
    const embeddings = new OpenAIEmbeddings({
      model: 'fake-model',
      apiKey: key,
      configuration: { baseURL: base(nodeB, closed.instanceId) },
      maxRetries: 0,
    });
    const vectors = await embeddings.embedDocuments(['alpha', 'beta', 'gamma']);
    expect(vectors).toHaveLength(3);
    expect(vectors[0]).toHaveLength(8);
    expect(await embeddings.embedQuery('alpha')).toEqual(vectors[0]);
  });

  it("refuses a private instance's endpoints without its key, in the shape of the API called", async () => {
    const openai = new OpenAI({ baseURL: base(nodeB, closed.instanceId), apiKey: 'sk-wrong', maxRetries: 0 });
    await expect(openai.embeddings.create({ model: 'fake-model', input: 'x' })).rejects.toMatchObject({
      status: 401,
      error: { type: 'authentication_error' },
    });
    const res = await fetch(`${base(nodeB, closed.instanceId)}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake-model', max_tokens: 10, messages: [] }),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      type: 'error',
      error: { type: 'authentication_error', message: expect.any(String) },
    });
  });

  it('limits a key to the endpoints it was created for (403 elsewhere, in the shape of the API called)', async () => {
    const limited = await createKey(nodeA.url, closed, {
      name: 'embeddings only',
      endpoints: ['embeddings'],
    });
    expect(limited.endpoints).toEqual(['embeddings']);
    const url = base(nodeB, closed.instanceId);
    const openai = new OpenAI({ baseURL: url, apiKey: limited.key, maxRetries: 0 });
    expect((await openai.embeddings.create({ model: 'fake-model', input: 'x' })).data).toHaveLength(1);
    await expect(
      openai.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 403, error: { code: 'endpoint_not_allowed' } });
    const anthropic = new Anthropic({ baseURL: url, apiKey: limited.key, maxRetries: 0 });
    await expect(
      anthropic.messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 403, error: { type: 'error', error: { type: 'permission_error' } } });
    const refused = await fetch(`${nodeA.url}/api/upload/${closed.instanceId}/keys`, {
      method: 'POST',
      headers: { authorization: closed.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bad', endpoints: ['audio/transcriptions'] }),
    });
    expect(refused.status).toBe(422);
  });

  it("records each API's tokens in the key's usage", async () => {
    const from = new Date(Date.now() - 3_600_000).toISOString();
    await eventually(async () => {
      const items = await usage(nodeA.url, closed, `granularity=day&from=${from}&key_id=${keyId}`);
      const prompt = items.reduce((n, i) => n + i.prompt_tokens, 0);
      const completion = items.reduce((n, i) => n + i.completion_tokens, 0);
      // Case 1 above: two completions (the stream's usage asked for by the registry), two responses
      // and two Anthropic messages, 4 tokens each; embeddings count prompt tokens only.
      return prompt > 0 && completion === 4 * 6;
    }, 5_000);
  });

  it("answers 501 at once, in the caller's API shape, for an instance whose host serves chat only (stock Second Me)", async () => {
    const stock = await cluster.register('stock');
    const host = await RawWsClient.open(
      nodeA.port,
      `/api/ws/${stock.instanceId}?password=${encodeURIComponent(stock.password)}`,
    );
    try {
      host.send(JSON.stringify({ type: 'heartbeat', data: {}, version: '1.0' }));
      await eventually(async () => (await instanceDetail(nodeB.url, stock)).status === 'online', 5_000);
      for (const node of [nodeA, nodeB]) {
        const started = Date.now();
        const openai = new OpenAI({ baseURL: base(node, stock.instanceId), apiKey: 'unused', maxRetries: 0 });
        await expect(openai.embeddings.create({ model: 'm', input: 'x' })).rejects.toMatchObject({
          status: 501,
          error: { code: 'endpoint_not_supported' },
        });
        const anthropic = new Anthropic({
          baseURL: base(node, stock.instanceId),
          apiKey: 'unused',
          maxRetries: 0,
        });
        await expect(
          anthropic.messages.create({
            model: 'm',
            max_tokens: 5,
            messages: [{ role: 'user', content: 'x' }],
          }),
        ).rejects.toMatchObject({ status: 501, error: { type: 'error', error: { type: 'api_error' } } });
        expect(Date.now() - started).toBeLessThan(2_000);
      }
      expect(host.messages.some((m) => m.includes('http_request'))).toBe(false);
      expect((await instanceDetail(nodeA.url, stock)).endpoints).toEqual(['chat']);
    } finally {
      host.destroy();
    }
  });
});
