import OpenAI from 'openai';
import { createKey, keyedChat, revokeKey, updateInstance, usage } from '../support/access-keys';
import { ClusterWithAgent, startClusterWithAgent } from '../support/cluster';
import { eventually, registerInstance } from '../support/registry-client';

const UTC_HOUR =
  'granularity=minute&from=' + encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString());

describe('private instances: access keys, owner policy and usage (two nodes, real agent)', () => {
  let env: ClusterWithAgent;
  const nodeA = () => env.cluster.nodes[0];
  const nodeB = () => env.cluster.nodes[1];
  const id = () => env.instance.instanceId;

  beforeAll(async () => {
    env = await startClusterWithAgent(
      { label: 'private', nodes: 2, env: { USAGE_FLUSH_MS: '300' } },
      { chunks: 3, models: ['fake-model', 'other-model'] },
    );
    await updateInstance(nodeA().url, env.instance, { visibility: 'private' });
  });
  afterAll(async () => {
    await env?.cluster.stop();
  });

  it('is left out of the public list and count, and its owner sees it as private', async () => {
    const publicOne = await registerInstance(nodeA().url, 'public neighbour');
    const list = (await (await fetch(`${nodeB().url}/api/upload/list?page_size=100`)).json()) as {
      data: { items: Array<{ instance_id: string }>; pagination: { total: number } };
    };
    const ids = list.data.items.map((item) => item.instance_id);
    expect(ids).toContain(publicOne.instanceId);
    expect(ids).not.toContain(id());
    const count = (await (await fetch(`${nodeB().url}/api/upload/count`)).json()) as {
      data: { count: number };
    };
    expect(count.data.count).toBe(list.data.pagination.total);
    const detail = (await (
      await fetch(`${nodeB().url}/api/upload/${id()}`, { headers: { authorization: env.instance.auth } })
    ).json()) as { data: { visibility: string } };
    expect(detail.data.visibility).toBe('private');
  });

  it('refuses a chat without a key, with a wrong, expired or revoked key (401), and a model outside the key (403)', async () => {
    const missing = await keyedChat(nodeB().url, id(), undefined);
    expect(missing.status).toBe(401);
    expect(missing.body.error?.code).toBe('invalid_api_key');
    expect(missing.body.error?.message).toMatch(/private/);
    const wrong = await keyedChat(nodeB().url, id(), `sk-${'x'.repeat(43)}`);
    expect([wrong.status, wrong.body.error?.code]).toEqual([401, 'invalid_api_key']);

    const soon = await createKey(nodeA().url, env.instance, {
      name: 'short-lived',
      expires_at: new Date(Date.now() + 1_500).toISOString(),
    });
    expect((await keyedChat(nodeB().url, id(), soon.key)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_600));
    const expired = await keyedChat(nodeB().url, id(), soon.key);
    expect([expired.status, expired.body.error?.message]).toEqual([401, 'this access key has expired']);

    const scoped = await createKey(nodeA().url, env.instance, { name: 'scoped', models: ['fake-model'] });
    const outside = await keyedChat(nodeB().url, id(), scoped.key, { model: 'other-model' });
    expect([outside.status, outside.body.error?.code, outside.body.error?.param]).toEqual([
      403,
      'model_not_allowed',
      'model',
    ]);
    expect((await keyedChat(nodeB().url, id(), scoped.key, { model: 'fake-model' })).status).toBe(200);
  });

  it('a key revoked on node A is refused on node B within 1 s (B had it cached)', async () => {
    const issued = await createKey(nodeA().url, env.instance, { name: 'to revoke' });
    expect((await keyedChat(nodeB().url, id(), issued.key)).status).toBe(200);
    expect((await keyedChat(nodeB().url, id(), issued.key)).status).toBe(200);
    await revokeKey(nodeA().url, env.instance, issued.key_id);
    const took = await eventually(
      async () => (await keyedChat(nodeB().url, id(), issued.key)).status === 401,
      1_000,
    );
    expect(took).toBeLessThanOrEqual(1_000);
    const refused = await keyedChat(nodeB().url, id(), issued.key);
    expect(refused.body.error?.message).toBe('this access key was revoked');
  });

  it('holds a 10 rpm key to 10 requests across both nodes, then 429 with Retry-After', async () => {
    const issued = await createKey(nodeA().url, env.instance, { name: 'rpm', rpm: 10 });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 14; i++) {
      const answer = await keyedChat((i % 2 ? nodeA() : nodeB()).url, id(), issued.key);
      statuses.push(answer.status);
      if (answer.status === 429) retryAfter = answer.headers.get('retry-after');
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.slice(10)).toEqual([429, 429, 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
  });

  it('holds max_concurrent across nodes: a second chat while one runs elsewhere is a 429, then the slot is free again', async () => {
    const issued = await createKey(nodeA().url, env.instance, { name: 'one at a time', max_concurrent: 1 });
    const before = env.model.requests.length;
    const slow = keyedChat(nodeA().url, id(), issued.key, {
      messages: [{ role: 'user', content: '[slow]' }],
    });
    // Only once the slow chat holds the slot (it reached the model) is the other node asked.
    await eventually(
      async () => env.model.requests.slice(before).some((r) => JSON.stringify(r.body).includes('[slow]')),
      2_000,
    );
    const busy = await keyedChat(nodeB().url, id(), issued.key);
    expect([busy.status, busy.headers.get('retry-after')]).toEqual([429, '1']);
    expect(busy.body.error?.message).toMatch(/1 chats at once/);
    expect((await slow).status).toBe(200);
    expect((await keyedChat(nodeB().url, id(), issued.key)).status).toBe(200);
  });

  it('stops a key at its tokens_per_day on every node, with Retry-After until the end of the UTC day', async () => {
    // One chat's worth: a 1-token prompt and a 3-token answer.
    const issued = await createKey(nodeA().url, env.instance, { name: 'budget', tokens_per_day: 4 });
    const first = await keyedChat(nodeB().url, id(), issued.key);
    expect(first.status).toBe(200);
    expect((first.body.usage as { total_tokens: number }).total_tokens).toBe(4);
    await eventually(async () => (await keyedChat(nodeA().url, id(), issued.key)).status === 429, 2_000);
    const refused = await keyedChat(nodeB().url, id(), issued.key);
    expect([refused.status, refused.body.error?.code]).toEqual([429, 'rate_limit_exceeded']);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('enforces the owner policy for every caller: pinned model, allowed models, max_tokens ceiling', async () => {
    const issued = await createKey(nodeA().url, env.instance, { name: 'policy' });
    await updateInstance(nodeA().url, env.instance, {
      policy: { pinned_model: 'fake-model', max_tokens: 50 },
    });
    // The change reaches node B's cache through the broadcast, not after its expiry.
    await eventually(
      async () => (await keyedChat(nodeB().url, id(), issued.key, { model: 'other-model' })).status === 403,
      1_000,
    );
    const before = env.model.requests.length;
    const pinned = await keyedChat(nodeB().url, id(), issued.key);
    expect(pinned.status).toBe(200);
    const sent = env.model.requests.slice(before).find((r) => r.path.endsWith('/chat/completions'));
    expect(sent?.body).toMatchObject({ model: 'fake-model', max_tokens: 50 });
    const tooLong = await keyedChat(nodeB().url, id(), issued.key, { max_tokens: 51 });
    expect([tooLong.status, tooLong.body.error?.param]).toEqual([422, 'max_tokens']);
    expect(tooLong.body.error?.message).toMatch(/from 1 to 50/);
    // The fields llama.cpp, vLLM, Ollama and TGI read instead of (or besides) max_tokens.
    for (const [extra, param] of [
      [{ n_predict: 100_000 }, 'n_predict'],
      [{ n_predict: -1 }, 'n_predict'],
      [{ max_completion_tokens: '100000' }, 'max_completion_tokens'],
      [{ options: { num_predict: 0 } }, 'options.num_predict'],
      [{ parameters: { max_new_tokens: 51 } }, 'parameters.max_new_tokens'],
    ] as const) {
      const refused = await keyedChat(nodeB().url, id(), issued.key, extra);
      expect([refused.status, refused.body.error?.param]).toEqual([422, param]);
    }
    const within = { n_predict: 40, max_completion_tokens: 30, options: { num_predict: 50 } };
    expect((await keyedChat(nodeA().url, id(), issued.key, within)).status).toBe(200);
    const asked = env.model.requests.slice(before).map((r) => {
      const body = r.body as Record<string, Record<string, unknown> | undefined>;
      return [
        ...[
          'max_tokens',
          'max_completion_tokens',
          'max_output_tokens',
          'n_predict',
          'max_new_tokens',
          'num_predict',
        ].map((field) => body[field]),
        body.options?.num_predict,
        body.parameters?.max_new_tokens,
      ].filter((value) => value !== undefined);
    });
    expect(asked).toContainEqual([50, 30, 40, 50]);
    for (const values of asked) for (const value of values) expect(value).toEqual(expect.any(Number));
    expect(Math.max(...asked.flat().map(Number))).toBeLessThanOrEqual(50);

    await updateInstance(nodeA().url, env.instance, { policy: { allowed_models: ['other-model'] } });
    await eventually(
      async () => (await keyedChat(nodeB().url, id(), issued.key, { model: 'fake-model' })).status === 403,
      1_000,
    );
    expect((await keyedChat(nodeB().url, id(), issued.key, { model: 'other-model' })).status).toBe(200);
    await updateInstance(nodeA().url, env.instance, { policy: null });
  });

  it('works with the OpenAI SDK, the key as apiKey: stream, JSON answer and a models list the key may use', async () => {
    const issued = await createKey(nodeA().url, env.instance, { name: 'sdk', models: ['fake-model'] });
    for (const node of [nodeA(), nodeB()]) {
      const client = new OpenAI({
        apiKey: issued.key,
        baseURL: `${node.url}/api/chat/${id()}`,
        maxRetries: 0,
      });
      const stream = await client.chat.completions.create({
        model: 'fake-model',
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
      });
      let text = '';
      let chunks = 0;
      for await (const chunk of stream) {
        chunks++;
        text += chunk.choices[0]?.delta?.content ?? '';
      }
      expect(text).toBe('Hello from the');
      // The usage chunk the agent asked for is not passed to a caller who did not ask for it.
      expect(chunks).toBe(4);
      const full = await client.chat.completions.create({
        model: 'fake-model',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(full.choices[0].message.content).toBe('Hello from the');
      expect(full.usage?.completion_tokens).toBe(3);
      const models = await client.models.list();
      expect(models.data.map((m) => m.id)).toEqual(['fake-model']);
    }
    const anonymous = new OpenAI({
      apiKey: 'unused',
      baseURL: `${nodeB().url}/api/chat/${id()}`,
      maxRetries: 0,
    });
    await expect(anonymous.models.list()).rejects.toMatchObject({ status: 401 });
  });

  it('reports usage per minute for the instance and per key, with tokens from the model', async () => {
    const issued = await createKey(nodeA().url, env.instance, { name: 'usage' });
    for (let i = 0; i < 3; i++) expect((await keyedChat(nodeB().url, id(), issued.key)).status).toBe(200);
    const failed = await keyedChat(nodeA().url, id(), issued.key, {
      messages: [{ role: 'user', content: '[error500]' }],
    });
    expect(failed.status).toBe(502);
    let rows: Awaited<ReturnType<typeof usage>> = [];
    await eventually(async () => {
      rows = await usage(nodeA().url, env.instance, `${UTC_HOUR}&key_id=${issued.key_id}`);
      return rows.reduce((n, r) => n + r.requests, 0) === 4;
    }, 3_000);
    const sum = (field: 'errors' | 'prompt_tokens' | 'completion_tokens') =>
      rows.reduce((n, r) => n + r[field], 0);
    expect(sum('errors')).toBe(1);
    expect(sum('completion_tokens')).toBe(9);
    expect(sum('prompt_tokens')).toBeGreaterThanOrEqual(3);
    expect(rows[0].start).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00Z$/);
    const all = await usage(nodeA().url, env.instance, UTC_HOUR);
    expect(all.reduce((n, r) => n + r.requests, 0)).toBeGreaterThan(4);
    const keys = (await (
      await fetch(`${nodeA().url}/api/upload/${id()}/keys`, { headers: { authorization: env.instance.auth } })
    ).json()) as { data: { items: Array<Record<string, unknown>> } };
    const listed = keys.data.items.find((k) => k.key_id === issued.key_id);
    expect(listed).toMatchObject({ name: 'usage', prefix: issued.prefix, revoked: false });
    expect(listed?.last_used_at).not.toBeNull();
    expect(JSON.stringify(keys.data)).not.toContain(issued.key);
  });

  it('keeps usage of a node stopped with SIGTERM, and all but the last flush of one SIGKILLed', async () => {
    const issued = await createKey(nodeA().url, env.instance, { name: 'restart' });
    const total = async () =>
      (await usage(nodeA().url, env.instance, `${UTC_HOUR}&key_id=${issued.key_id}`)).reduce(
        (n, r) => n + r.requests,
        0,
      );
    const calm = await env.cluster.addNode('node-c', { USAGE_FLUSH_MS: '60000' });
    for (let i = 0; i < 2; i++) expect((await keyedChat(calm.url, id(), issued.key)).status).toBe(200);
    expect(await total()).toBe(0);
    await calm.proc.stop('SIGTERM');
    expect(await total()).toBe(2);

    const killed = await env.cluster.addNode('node-d', { USAGE_FLUSH_MS: '500' });
    for (let i = 0; i < 3; i++) expect((await keyedChat(killed.url, id(), issued.key)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_200));
    killed.proc.signal('SIGKILL');
    await killed.proc.exited;
    expect(await total()).toBe(5);
  });
});
