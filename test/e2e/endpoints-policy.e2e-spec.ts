import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { createKey, updateInstance, usageReport } from '../support/access-keys';
import { TestCluster } from '../support/cluster';
import type { FakeModel } from '../support/fake-model-server';
import type { RunningRegistry } from '../support/processes';
import { eventually, instanceDetail, Registered } from '../support/registry-client';

interface Ranked {
  results: Array<{ index: number; relevance_score: number; document: { text: string } }>;
  usage: { total_tokens: number };
}

const DOCUMENTS = ['a cat sat on the mat', 'the quick brown fox jumps', 'a brown dog'];

/**
 * Rerank, the agent's --endpoints and the owner's endpoint list, through two registry nodes (one
 * Redis), real agents and the fake model: the agents dial node A, callers come in through A and B.
 */
describe('rerank, the agent endpoint list and the owner endpoint policy (two nodes)', () => {
  let cluster: TestCluster;
  let nodeA: RunningRegistry;
  let nodeB: RunningRegistry;
  let open: Registered;
  let closed: Registered;
  let narrow: Registered;
  let model: FakeModel;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      label: 'endpoints-policy',
      nodes: 2,
      env: { USAGE_FLUSH_MS: '200' },
    });
    [nodeA, nodeB] = cluster.nodes;
    model = await cluster.model({ chunks: 4, delayMs: 5 });
    [open, closed, narrow] = await Promise.all([
      cluster.register('rerank public'),
      cluster.register('rerank private'),
      cluster.register('embeddings only agent'),
    ]);
    await updateInstance(nodeA.url, closed, { visibility: 'private' });
    await cluster.agent(open, model, { node: nodeA });
    await cluster.agent(closed, model, { node: nodeA });
    await cluster.agent(narrow, model, { node: nodeA, env: { HOST_ENDPOINTS: 'embeddings' } });
    for (const instance of [open, closed, narrow]) await cluster.waitOnline(instance);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  const url = (node: RunningRegistry, instance: Registered, path = '') =>
    `${node.url}/api/chat/${instance.instanceId}${path}`;
  const post = async (target: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const rerank = { model: 'fake-model', query: 'brown fox', documents: DOCUMENTS };
  const chatBody = { model: 'fake-model', messages: [{ role: 'user', content: 'hi' }], stream: false };

  it('relays rerank on a public instance through either node, and counts its tokens under rerank', async () => {
    const from = new Date(Date.now() - 60_000).toISOString();
    for (const node of [nodeA, nodeB]) {
      const { status, body } = await post(url(node, open, '/rerank'), { ...rerank, top_n: 2 });
      expect(status).toBe(200);
      const ranked = body as unknown as Ranked;
      expect(ranked.results.map((r) => r.index)).toEqual([1, 2]);
      expect(ranked.results[0].relevance_score).toBe(1);
      expect(ranked.usage.total_tokens).toBeGreaterThan(0);
    }
    const upstream = model.requests.filter((r) => r.path === '/v1/rerank');
    expect(upstream).toHaveLength(2);
    // No token ceiling is added to a rerank body, and it is passed as sent.
    expect(upstream[0].body).toEqual({ ...rerank, top_n: 2 });

    const perCall = (await post(url(nodeA, open, '/rerank'), { ...rerank, documents: ['x'] })).body;
    expect(perCall).toHaveProperty('usage');
    await eventually(async () => {
      const report = await usageReport(nodeB.url, open, `granularity=hour&from=${from}`);
      return report.by_endpoint.rerank?.requests === 3;
    }, 5_000);
    const { by_endpoint } = await usageReport(
      nodeB.url,
      open,
      `granularity=hour&from=${from}&endpoint=rerank`,
    );
    // vLLM's usage has total_tokens only: they are counted as prompt tokens.
    expect(by_endpoint.rerank).toMatchObject({ requests: 3, errors: 0, completion_tokens: 0 });
    expect(by_endpoint.rerank!.prompt_tokens).toBeGreaterThan(0);
    expect((await instanceDetail(nodeB.url, open)).endpoints).toEqual([
      'chat',
      'embeddings',
      'completions',
      'responses',
      'messages',
      'rerank',
    ]);
  });

  it('relays rerank on a private instance with a key limited to rerank, and refuses that key elsewhere', async () => {
    const issued = await createKey(nodeA.url, closed, { name: 'rerank only', endpoints: ['rerank'] });
    expect(issued.endpoints).toEqual(['rerank']);
    const auth = { authorization: `Bearer ${issued.key}` };
    const ranked = await post(url(nodeB, closed, '/rerank'), rerank, auth);
    expect(ranked.status).toBe(200);
    expect((ranked.body as unknown as Ranked).results[0].document.text).toBe(DOCUMENTS[1]);
    expect((await post(url(nodeB, closed, '/rerank'), rerank)).status).toBe(401);
    const embeddings = await post(
      url(nodeB, closed, '/embeddings'),
      { model: 'fake-model', input: 'x' },
      auth,
    );
    expect(embeddings).toEqual({
      status: 403,
      body: {
        error: expect.objectContaining({
          code: 'endpoint_not_allowed',
          message: 'this access key may not call embeddings',
        }),
      },
    });
  });

  it("answers 501 in the API's shape for an endpoint the agent was started without (--endpoints), and never sends it", async () => {
    expect((await instanceDetail(nodeA.url, narrow)).endpoints).toEqual(['chat', 'embeddings']);
    const before = model.requests.length;
    for (const node of [nodeA, nodeB]) {
      const openai = new OpenAI({ baseURL: url(node, narrow), apiKey: 'unused', maxRetries: 0 });
      expect((await openai.embeddings.create({ model: 'fake-model', input: 'x' })).data).toHaveLength(1);
      await expect(openai.completions.create({ model: 'fake-model', prompt: 'Say' })).rejects.toMatchObject({
        status: 501,
        error: { code: 'endpoint_not_supported' },
      });
      const reranked = await post(url(node, narrow, '/rerank'), rerank);
      expect(reranked.status).toBe(501);
      expect(reranked.body).toMatchObject({ error: { code: 'endpoint_not_supported' } });
      const anthropic = new Anthropic({ baseURL: url(node, narrow), apiKey: 'unused', maxRetries: 0 });
      await expect(
        anthropic.messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
      ).rejects.toMatchObject({ status: 501, error: { type: 'error', error: { type: 'api_error' } } });
    }
    // Only the two embeddings calls reached the model server.
    expect(model.requests.slice(before).map((r) => r.path)).toEqual(['/v1/embeddings', '/v1/embeddings']);
  });

  describe("the owner's endpoint list", () => {
    let owned: Registered;

    beforeAll(async () => {
      owned = await cluster.register('owner endpoint policy');
      await cluster.agent(owned, model, { node: nodeA });
      await cluster.waitOnline(owned);
    });

    const refusedBy = async (policy: unknown, check: () => Promise<boolean>) => {
      await updateInstance(nodeA.url, owned, { policy });
      // Nodes learn of a policy change through Redis: wait until both apply it.
      await eventually(check, 5_000);
    };

    it('refuses embeddings (OpenAI shape) and Anthropic Messages (Anthropic shape) with 403, on either node, and leaves them out of the detail', async () => {
      const from = new Date(Date.now() - 60_000).toISOString();
      await refusedBy({ endpoints: ['chat', 'rerank'] }, async () => {
        const [a, b] = await Promise.all(
          [nodeA, nodeB].map((n) => post(url(n, owned, '/embeddings'), { model: 'fake-model', input: 'x' })),
        );
        return a.status === 403 && b.status === 403;
      });
      for (const node of [nodeA, nodeB]) {
        expect(await post(url(node, owned, '/embeddings'), { model: 'fake-model', input: 'x' })).toEqual({
          status: 403,
          body: {
            error: {
              message: 'the owner of this instance does not allow embeddings',
              type: 'permission_error',
              param: null,
              code: 'endpoint_not_allowed',
            },
          },
        });
        const messages = await post(
          url(node, owned, '/v1/messages'),
          { model: 'fake-model', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] },
          { 'anthropic-version': '2023-06-01' },
        );
        expect(messages).toEqual({
          status: 403,
          body: {
            type: 'error',
            error: {
              type: 'permission_error',
              message: 'the owner of this instance does not allow messages',
            },
          },
        });
        expect((await post(url(node, owned, '/rerank'), rerank)).status).toBe(200);
        expect((await post(url(node, owned, '/chat/completions'), chatBody)).status).toBe(200);
      }
      expect((await instanceDetail(nodeB.url, owned)).endpoints).toEqual(['chat', 'rerank']);
      expect((await instanceDetail(nodeB.url, owned)).policy).toEqual({ endpoints: ['chat', 'rerank'] });
      // The refusals are counted as 403s under the endpoint called.
      await eventually(async () => {
        const { by_endpoint } = await usageReport(nodeA.url, owned, `granularity=hour&from=${from}`);
        return by_endpoint.messages?.refused[403] === 2;
      }, 5_000);
      const { by_endpoint } = await usageReport(nodeA.url, owned, `granularity=hour&from=${from}`);
      expect(by_endpoint.embeddings?.refused[403]).toBeGreaterThanOrEqual(2);
      expect(by_endpoint.embeddings?.requests).toBe(0);
      expect(by_endpoint.messages).toMatchObject({ requests: 0, refused: { 403: 2 } });
    });

    it('refuses chat on the bare route and /chat/completions when the owner allows embeddings only, and allows all again with null', async () => {
      await refusedBy({ endpoints: ['embeddings'], max_tokens: 100 }, async () => {
        const [a, b] = await Promise.all([nodeA, nodeB].map((n) => post(url(n, owned), chatBody)));
        return a.status === 403 && b.status === 403;
      });
      for (const node of [nodeA, nodeB]) {
        const bare = await post(url(node, owned), chatBody);
        expect(bare.status).toBe(403);
        expect(JSON.stringify(bare.body)).toContain('the owner of this instance does not allow chat');
        const completions = await post(url(node, owned, '/chat/completions'), chatBody);
        expect(completions).toMatchObject({
          status: 403,
          body: {
            error: {
              code: 'endpoint_not_allowed',
              message: 'the owner of this instance does not allow chat',
            },
          },
        });
        expect(
          (await post(url(node, owned, '/embeddings'), { model: 'fake-model', input: 'x' })).status,
        ).toBe(200);
      }
      expect((await instanceDetail(nodeA.url, owned)).endpoints).toEqual(['embeddings']);

      await refusedBy({ endpoints: null, max_tokens: 100 }, async () => {
        const [a, b] = await Promise.all([nodeA, nodeB].map((n) => post(url(n, owned), chatBody)));
        return a.status === 200 && b.status === 200;
      });
      expect((await instanceDetail(nodeA.url, owned)).policy).toEqual({ max_tokens: 100 });
      expect((await instanceDetail(nodeA.url, owned)).endpoints).toHaveLength(6);
    });

    it('refuses an endpoint list with a name it does not know, or an empty one, with 422 naming the field', async () => {
      for (const endpoints of [['chat', 'audio/speech'], [], 'chat']) {
        const res = await fetch(`${nodeA.url}/api/upload/${owned.instanceId}`, {
          method: 'PUT',
          headers: { authorization: owned.auth, 'content-type': 'application/json' },
          body: JSON.stringify({ policy: { endpoints } }),
        });
        const body = (await res.json()) as { message: string };
        expect([res.status, body.message]).toEqual([422, expect.stringContaining('policy.endpoints')]);
      }
    });
  });
});
