import { TestCluster } from '../support/cluster';
import type { FakeModel } from '../support/fake-model-server';

const messages = [{ role: 'user', content: 'hi' }];

describe("OpenAI's rules on OpenAI's route, Second Me's on the bare one (real registry and agent)", () => {
  let cluster: TestCluster;
  let model: FakeModel;
  let chatUrl: string;

  beforeAll(async () => {
    cluster = await TestCluster.embedded();
    model = await cluster.model();
    const instance = await cluster.register();
    await cluster.agent(instance, model);
    chatUrl = `${cluster.nodes[0].url}/api/chat/${instance.instanceId}`;
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  const post = (url: string, body: unknown) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const lastUpstreamBody = () =>
    model.requests.filter((r) => r.path === '/v1/chat/completions').at(-1)?.body as Record<string, unknown>;

  it('accepts temperature 1.5 on /chat/completions and refuses it with 422 on the bare route', async () => {
    const openai = await post(`${chatUrl}/chat/completions`, { messages, temperature: 1.5 });
    expect(openai.status).toBe(200);
    expect(lastUpstreamBody()).toMatchObject({ temperature: 1.5 });

    const bare = await post(chatUrl, { messages, temperature: 1.5, stream: false });
    expect(bare.status).toBe(422);
    const error = (await bare.json()) as { error: { message: string; param: string } };
    expect(error.error.param).toBe('temperature');
    expect(error.error.message).toContain('from 0 to 1');
  });

  it('sends the model no temperature or max_tokens the caller did not send on /chat/completions', async () => {
    const response = await post(`${chatUrl}/chat/completions`, { messages });
    expect(response.status).toBe(200);
    const body = lastUpstreamBody();
    expect(body).not.toHaveProperty('temperature');
    expect(body).not.toHaveProperty('max_tokens');
  });

  it('still fills in 0.7 and 2000 on the bare Second Me route (the contract)', async () => {
    const response = await post(chatUrl, { messages, stream: false });
    expect(response.status).toBe(200);
    expect(lastUpstreamBody()).toMatchObject({ temperature: 0.7, max_tokens: 2000 });
  });
});
