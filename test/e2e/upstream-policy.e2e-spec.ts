import { TestCluster } from '../support/cluster';
import type { FakeModel } from '../support/fake-model-server';
import { readSse } from '../support/sse';

describe('the owner pins down what an anonymous caller can ask of the upstream (real registry and agent)', () => {
  let cluster: TestCluster;
  let model: FakeModel;
  let chatUrl: string;

  beforeAll(async () => {
    cluster = await TestCluster.embedded();
    model = await cluster.model({ models: ['owner-model'] });
    const instance = await cluster.register();
    await cluster.agent(instance, model, {
      env: { UPSTREAM_MODEL: 'owner-model', HOST_PIN_MODEL: '1', HOST_MAX_TOKENS: '64' },
    });
    chatUrl = `${cluster.nodes[0].url}/api/chat/${instance.instanceId}`;
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  const lastUpstreamBody = () =>
    model.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)?.body as Record<string, unknown>;

  it('drops credential and target overrides, pins the model, caps tokens and n; other fields pass through', async () => {
    const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }];
    const result = await readSse(chatUrl, {
      messages: [{ role: 'user', content: 'hi' }],
      model: 'gpt-4o',
      max_tokens: 100000,
      n: 5,
      api_key: 'sk-caller-key',
      api_base: 'http://attacker.example/v1',
      base_url: 'http://attacker.example/v1',
      extra_headers: { authorization: 'Bearer stolen' },
      tools,
      response_format: { type: 'json_object' },
      extendData: { trace: 'kept' },
    });
    expect(result.status).toBe(200);
    expect(result.done).toBe(true);

    const body = lastUpstreamBody();
    for (const field of ['api_key', 'api_base', 'base_url', 'extra_headers'])
      expect(body).not.toHaveProperty(field);
    expect(JSON.stringify(body)).not.toContain('attacker.example');
    expect(body).toMatchObject({
      model: 'owner-model',
      max_tokens: 64,
      n: 1,
      tools,
      response_format: { type: 'json_object' },
      extendData: { trace: 'kept' },
    });
  });

  it('keeps a smaller max_tokens the caller asked for', async () => {
    const result = await readSse(chatUrl, { messages: [{ role: 'user', content: 'hi' }], max_tokens: 10 });
    expect(result.done).toBe(true);
    expect(lastUpstreamBody()).toMatchObject({ model: 'owner-model', max_tokens: 10 });
  });
});
