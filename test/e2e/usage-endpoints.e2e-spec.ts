import type { EndpointUsage } from '@app/contracts';
import { usageReport } from '../support/access-keys';
import { TestCluster } from '../support/cluster';
import type { RunningRegistry } from '../support/processes';
import { eventually, Registered } from '../support/registry-client';

type Usage = { prompt_tokens: number; completion_tokens?: number };

/** A chat and an embeddings request to one instance through real processes, read back per endpoint. */
describe('usage per endpoint (registry, agent and fake model)', () => {
  let cluster: TestCluster;
  let node: RunningRegistry;
  let instance: Registered;

  beforeAll(async () => {
    cluster = await TestCluster.start({ label: 'usage-endpoints', nodes: 1, env: { USAGE_FLUSH_MS: '200' } });
    [node] = cluster.nodes;
    const model = await cluster.model({ chunks: 3, delayMs: 5 });
    instance = await cluster.register('usage per endpoint');
    await cluster.agent(instance, model, { node });
    await cluster.waitOnline(instance);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  const post = async (path: string, body: unknown): Promise<Usage> => {
    const res = await fetch(`${node.url}/api/chat/${instance.instanceId}/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { usage: Usage }).usage;
  };

  it('counts a chat under chat and an embeddings request under embeddings, each with its own tokens', async () => {
    const from = new Date(Date.now() - 60_000).toISOString();
    const chat = await post('chat/completions', {
      model: 'fake-model',
      messages: [{ role: 'user', content: 'hello there' }],
    });
    const embeddings = await post('embeddings', { model: 'fake-model', input: ['one', 'two', 'three'] });
    expect(chat.completion_tokens).toBeGreaterThan(0);
    expect(embeddings.prompt_tokens).toBeGreaterThan(0);

    const query = `granularity=hour&from=${from}`;
    const expected: Record<string, EndpointUsage> = {
      chat: {
        requests: 1,
        errors: 0,
        prompt_tokens: chat.prompt_tokens,
        completion_tokens: chat.completion_tokens!,
        refused: { 401: 0, 403: 0, 422: 0, 429: 0, 503: 0 },
      },
      embeddings: {
        requests: 1,
        errors: 0,
        prompt_tokens: embeddings.prompt_tokens,
        completion_tokens: 0,
        refused: { 401: 0, 403: 0, 422: 0, 429: 0, 503: 0 },
      },
    };
    // Written every USAGE_FLUSH_MS: wait until both are, then compare exactly.
    await eventually(async () => {
      const report = await usageReport(node.url, instance, query);
      return Object.keys(report.by_endpoint).length === 2;
    }, 5_000);
    const all = await usageReport(node.url, instance, query);
    expect(all.by_endpoint).toEqual(expected);
    // The periods still sum every endpoint, as before.
    expect(all.items.reduce((n, p) => n + p.requests, 0)).toBe(2);

    const onlyEmbeddings = await usageReport(node.url, instance, `${query}&endpoint=embeddings`);
    expect(onlyEmbeddings.by_endpoint).toEqual({ embeddings: expected.embeddings });
    expect(onlyEmbeddings.items).toEqual([
      expect.objectContaining({ requests: 1, prompt_tokens: embeddings.prompt_tokens, completion_tokens: 0 }),
    ]);
  });

  it('refuses an endpoint filter it does not know with 422 naming the field', async () => {
    const res = await fetch(`${node.url}/api/upload/${instance.instanceId}/usage?endpoint=audio`, {
      headers: { authorization: instance.auth },
    });
    const body = (await res.json()) as { message: string };
    // Before endpoints were counted, the unknown parameter was dropped and every endpoint summed (200).
    expect([res.status, body.message]).toEqual([
      422,
      expect.stringMatching(/^endpoint: endpoint must be one of/),
    ]);
  });
});
