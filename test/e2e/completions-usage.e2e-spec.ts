import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { createKey, updateInstance, usage } from '../support/access-keys';
import { ClusterWithAgent, readKey, startClusterWithAgent } from '../support/cluster';
import { eventually } from '../support/registry-client';

const WORDS = 'Hello from the fake';
/** The fake model's usage for prompt 'Say': one prompt token, one completion token per word. */
const SAY = { prompt: 1, completion: 4 };

const today = () => new Date().toISOString().slice(0, 10).replace(/-/g, '');

/**
 * Tokens of streamed `completions`, whose usage the model sends only when asked
 * (`stream_options.include_usage`): the registry asks for it, counts it in the owner's usage and
 * the key's day, and cuts the usage-only chunk out for a caller who did not ask. The caller is on
 * node B, the agent on node A; the other APIs' streams and JSON answers, which always carry
 * usage, are counted alike.
 */
describe("usage of streamed completions (the registry asks the model for it; the caller who didn't gets none)", () => {
  let env: ClusterWithAgent;
  const url = () => `${env.cluster.nodes[1].url}/api/chat/${env.instance.instanceId}`;

  beforeAll(async () => {
    env = await startClusterWithAgent(
      { label: 'completions-usage', nodes: 2, env: { USAGE_FLUSH_MS: '200' } },
      { chunks: 4, delayMs: 5 },
    );
    await updateInstance(env.cluster.nodes[0].url, env.instance, { visibility: 'private' });
  });
  afterAll(async () => {
    await env?.cluster.stop();
  });

  const newKey = (name: string, tokensPerDay = 10_000) =>
    createKey(env.cluster.nodes[0].url, env.instance, { name, tokens_per_day: tokensPerDay });

  /** What the owner's usage shows for the key today, and the key's day counter in Redis. */
  const charged = async (keyId: string) => {
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const items = await usage(
      env.cluster.nodes[0].url,
      env.instance,
      `granularity=day&from=${from}&key_id=${keyId}`,
    );
    const counter = `${env.cluster.prefix}:key:${keyId}:tokens:${today()}`;
    return {
      prompt: items.reduce((n, i) => n + i.prompt_tokens, 0),
      completion: items.reduce((n, i) => n + i.completion_tokens, 0),
      day: Number(await readKey(env.cluster.redisUrl, counter)),
    };
  };
  const expectCharged = async (keyId: string, prompt: number, completion: number) => {
    const want = { prompt, completion, day: prompt + completion };
    await eventually(async () => JSON.stringify(await charged(keyId)) === JSON.stringify(want), 5_000).catch(
      () => undefined,
    );
    expect(await charged(keyId)).toEqual(want);
  };
  const lastCompletionsBody = () =>
    env.model.requests.filter((r) => r.path === '/v1/completions').at(-1)?.body as Record<string, unknown>;

  it("a stream without include_usage: no usage chunk for the caller; the owner's usage and the key's day get the tokens", async () => {
    const key = await newKey('no include_usage');
    const client = new OpenAI({ baseURL: url(), apiKey: key.key, maxRetries: 0 });
    const chunks: OpenAI.Completion[] = [];
    for await (const chunk of await client.completions.create({
      model: 'fake-model',
      prompt: 'Say',
      stream: true,
    }))
      chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).toBe(WORDS);
    expect(chunks).toHaveLength(5); // four words and the finish_reason chunk
    expect(chunks.filter((c) => c.usage != null || c.choices.length === 0)).toEqual([]);
    // The model was asked for usage (the caller's other stream options kept).
    expect(lastCompletionsBody().stream_options).toEqual({ include_usage: true });
    await expectCharged(key.key_id, SAY.prompt, SAY.completion);
  });

  it('a stream without include_usage, read raw: the bytes are the model’s, less the usage-only event', async () => {
    const key = await newKey('raw');
    const res = await fetch(`${url()}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key.key}` },
      body: JSON.stringify({ model: 'fake-model', prompt: 'Say', stream: true, stream_options: {} }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await res.text();
    const events = text.split('\n\n');
    expect(events.at(-1)).toBe('');
    expect(events.at(-2)).toBe('data: [DONE]');
    expect(
      events.slice(0, -2).map((e) => (JSON.parse(e.slice(6)) as OpenAI.Completion).choices[0].text),
    ).toEqual(['Hello', ' from', ' the', ' fake', '']);
    expect(text).not.toContain('"usage"');
    expect(lastCompletionsBody().stream_options).toEqual({ include_usage: true });
    await expectCharged(key.key_id, SAY.prompt, SAY.completion);
  });

  it('a stream with include_usage: the caller gets the usage chunk, as the model sent it', async () => {
    const key = await newKey('include_usage');
    const client = new OpenAI({ baseURL: url(), apiKey: key.key, maxRetries: 0 });
    const chunks: OpenAI.Completion[] = [];
    for await (const chunk of await client.completions.create({
      model: 'fake-model',
      prompt: 'Say',
      stream: true,
      stream_options: { include_usage: true },
    }))
      chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.text ?? '').join('')).toBe(WORDS);
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: SAY.prompt, completion_tokens: SAY.completion },
    });
    await expectCharged(key.key_id, SAY.prompt, SAY.completion);
  });

  it("a key's tokens_per_day is spent by streamed completions without include_usage", async () => {
    const key = await newKey('budget of one answer', SAY.prompt + SAY.completion);
    const client = new OpenAI({ baseURL: url(), apiKey: key.key, maxRetries: 0 });
    let streamed = '';
    for await (const chunk of await client.completions.create({
      model: 'fake-model',
      prompt: 'Say',
      stream: true,
    }))
      streamed += chunk.choices[0]?.text ?? '';
    expect(streamed).toBe(WORDS);
    await expectCharged(key.key_id, SAY.prompt, SAY.completion);
    await expect(
      client.completions.create({ model: 'fake-model', prompt: 'Say', stream: true }),
    ).rejects.toMatchObject({
      status: 429,
      error: { code: 'rate_limit_exceeded', message: expect.stringMatching(/used its 5 tokens for today/) },
    });
  });

  it('JSON completions, Responses and Anthropic Messages (streamed or not) are counted as well', async () => {
    const openai = async (apiKey: string) => new OpenAI({ baseURL: url(), apiKey, maxRetries: 0 });
    const json = await newKey('completions, JSON');
    const completion = await (
      await openai(json.key)
    ).completions.create({ model: 'fake-model', prompt: 'Say' });
    expect(completion.choices[0].text).toBe(WORDS);
    expect(lastCompletionsBody().stream_options).toBeUndefined();

    const responses = await newKey('responses');
    const client = await openai(responses.key);
    expect((await client.responses.create({ model: 'fake-model', input: 'Say' })).output_text).toBe(WORDS);
    for await (const event of await client.responses.create({
      model: 'fake-model',
      input: 'Say',
      stream: true,
    }))
      void event;

    const messages = await newKey('messages');
    const anthropic = new Anthropic({ baseURL: url(), apiKey: messages.key, maxRetries: 0 });
    const ask = {
      model: 'fake-model',
      max_tokens: 100,
      messages: [{ role: 'user' as const, content: 'Say' }],
    };
    await anthropic.messages.create(ask);
    await anthropic.messages.stream(ask).finalMessage();

    await expectCharged(json.key_id, SAY.prompt, SAY.completion);
    await expectCharged(responses.key_id, 2 * SAY.prompt, 2 * SAY.completion);
    // The fake model counts Anthropic's prompt from the messages' JSON: 31 characters, 8 tokens.
    await expectCharged(messages.key_id, 2 * 8, 2 * SAY.completion);
  });
});
