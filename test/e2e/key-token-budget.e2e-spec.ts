import { createKey, updateInstance, usage } from '../support/access-keys';
import { ClusterWithAgent, readKey, startClusterWithAgent } from '../support/cluster';
import { eventually } from '../support/registry-client';
import { CallerReceipt, readAsCaller } from '../support/sse';

const BUDGET = 100;
/** The bar: what callers receive stays within one answer's worth of the budget, on any number of nodes. */
const BAR = BUDGET + 60;
/** Tokens per answer: the fake model streams one token per content chunk. */
const ANSWER = 50;

const today = () => new Date().toISOString().slice(0, 10).replace(/-/g, '');
const delivered = (receipts: CallerReceipt[]) => receipts.reduce((n, r) => n + r.contentChunks, 0);

describe('tokens_per_day holds across two nodes, whatever the parallelism and whoever leaves early', () => {
  let env: ClusterWithAgent;
  const nodes = () => env.cluster.nodes;
  const id = () => env.instance.instanceId;

  beforeAll(async () => {
    env = await startClusterWithAgent(
      { label: 'budget', nodes: 2, env: { USAGE_FLUSH_MS: '200' } },
      // A few ms per token, so callers can leave mid-answer; usage comes last, as real servers send it.
      { chunks: ANSWER, delayMs: 4 },
      { env: { HOST_CONCURRENCY: '32' } },
    );
    await updateInstance(nodes()[0].url, env.instance, { visibility: 'private' });
  });
  afterAll(async () => {
    await env?.cluster.stop();
  });

  const chat = (node: number, key: string, text: string, leaveAfter?: number) =>
    readAsCaller(
      `${nodes()[node].url}/api/chat/${id()}/chat/completions`,
      { messages: [{ role: 'user', content: text }], stream: true },
      { authorization: `Bearer ${key}` },
      leaveAfter,
    );

  /** Every answer is whole, or ends with an honest error (an SSE error event or a 429), never silently short. */
  const expectHonest = (receipts: CallerReceipt[]) => {
    for (const r of receipts) {
      if (r.done) expect(r.contentChunks).toBe(ANSWER);
      else
        expect(r).toMatchObject({
          errorCode: expect.stringMatching(/^(tokens_per_day|rate_limit)_exceeded$/),
        });
    }
  };

  /** Prompt and completion tokens recorded for the key today (what the owner is shown and billed). */
  const charged = async (keyId: string) => {
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const items = await usage(nodes()[0].url, env.instance, `granularity=day&from=${from}&key_id=${keyId}`);
    return items.reduce(
      (sum, i) => ({
        prompt: sum.prompt + i.prompt_tokens,
        completion: sum.completion + i.completion_tokens,
      }),
      { prompt: 0, completion: 0 },
    );
  };

  it('20 parallel chats over nodes A and B on a 100-token budget: callers receive at most the budget + 60', async () => {
    const key = await createKey(nodes()[0].url, env.instance, { name: 'parallel', tokens_per_day: BUDGET });
    const receipts = await Promise.all(Array.from({ length: 20 }, (_, i) => chat(i % 2, key.key, 'hi')));
    const total = delivered(receipts);
    console.log(`parallel: ${total} tokens delivered to 20 callers on a ${BUDGET}-token budget`);
    expect(total).toBeLessThanOrEqual(BAR);
    // The budget is used, not refused wholesale.
    expect(total).toBeGreaterThanOrEqual(BUDGET / 2);
    expectHonest(receipts);
    const next = await chat(1, key.key, 'hi');
    expect([next.status, next.contentChunks]).toEqual([429, 0]);
  });

  it.each([
    ['the model sends its usage last', 'hi'],
    ['the model never sends usage', '[no-usage] hi'],
  ])(
    'six callers who leave at 45 of 50 tokens (%s) are charged for what they got, and receive at most the budget + 60',
    async (_, text) => {
      const key = await createKey(nodes()[0].url, env.instance, { name: text, tokens_per_day: BUDGET });
      const receipts: CallerReceipt[] = [];
      for (let i = 0; i < 6; i++) receipts.push(await chat(i % 2, key.key, text, 45));
      const total = delivered(receipts);
      console.log(`left early (${text}): ${total} tokens delivered to 6 callers on a ${BUDGET}-token budget`);
      expect(total).toBeLessThanOrEqual(BAR);
      for (const r of receipts)
        if (r.contentChunks < 45) expect(r.errorCode).toMatch(/^(tokens_per_day|rate_limit)_exceeded$/);

      // Recorded usage holds every relayed token; the day's counter agrees once idle leases are back.
      await eventually(async () => (await charged(key.key_id)).completion >= total, 3_000);
      const { prompt, completion } = await charged(key.key_id);
      expect(completion).toBeLessThanOrEqual(total + 6);
      const counter = `${env.cluster.prefix}:key:${key.key_id}:tokens:${today()}`;
      await eventually(
        async () => Number(await readKey(env.cluster.redisUrl, counter)) === prompt + completion,
        3_000,
      );
    },
  );

  it('a streamed completion is cut at the budget mid-answer, as a chat is (its `text` chunks are counted as they pass)', async () => {
    const key = await createKey(nodes()[0].url, env.instance, { name: 'completions', tokens_per_day: 20 });
    const res = await fetch(`${nodes()[1].url}/api/chat/${id()}/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'count', stream: true }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    const tokens = text.split('\n').filter((l) => /"text":"[^"]/.test(l)).length;
    console.log(`completions: ${tokens} of ${ANSWER} tokens delivered on a 20-token budget`);
    expect(tokens).toBeLessThan(ANSWER);
    expect(text).toMatch(/tokens_per_day_exceeded|rate_limit_exceeded/);
    expect(text).not.toContain('data: [DONE]');
  });
});
