import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { rmSync } from 'node:fs';
import { createRegistryApp } from '../../apps/registry/src/create-app';
import { UsageRecorder } from '../../apps/registry/src/usage/usage-recorder';
import { createTestDatabase } from '../support/postgres';
import { testConfig } from '../support/registry-config';

type Mode = 'pglite' | 'postgresql';

describe.each<Mode>(['pglite', 'postgresql'])('access keys and usage on %s', (mode) => {
  let app: NestFastifyApplication;
  let dropDatabase: (() => Promise<void>) | undefined;
  let dataDir: string | undefined;
  let recorder: UsageRecorder;
  let owner: { id: string; auth: string };

  beforeAll(async () => {
    let databaseUrl: string | undefined;
    if (mode === 'postgresql') {
      const db = await createTestDatabase('keys');
      databaseUrl = db.url;
      dropDatabase = db.drop;
    }
    const config = testConfig({ DATABASE_URL: databaseUrl, USAGE_FLUSH_MS: '60000', KEYS_PER_INSTANCE: '3' });
    dataDir = config.dataDir;
    app = await createRegistryApp(config);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    recorder = app.get(UsageRecorder);
    const res = await call('POST', '/api/upload/register', undefined, {
      upload_name: 'keys',
      instance_id: null,
    });
    const data = res.json<{ data: { instance_id: string; instance_password: string } }>().data;
    owner = { id: data.instance_id, auth: `${data.instance_id}:${data.instance_password}` };
  });

  afterAll(async () => {
    await app?.close();
    await dropDatabase?.();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  function call(method: 'GET' | 'POST' | 'DELETE', url: string, auth?: string, body?: unknown) {
    return app.inject({
      method,
      url,
      headers: {
        ...(auth ? { authorization: `Bearer ${auth}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      payload: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  it('issues a key once, lists it without its secret, revokes it, and refuses bad input naming the field', async () => {
    const created = await call('POST', `/api/upload/${owner.id}/keys`, owner.auth, {
      name: 'ci',
      rpm: 5,
      models: ['m1'],
      tokens_per_day: 1000,
    });
    expect(created.statusCode).toBe(200);
    const key = created.json<{ data: { key: string; key_id: string; prefix: string } }>().data;
    expect(key.key).toMatch(/^sk-[A-Za-z0-9_-]{43}$/);
    expect(key.key.startsWith(key.prefix)).toBe(true);

    const listed = await call('GET', `/api/upload/${owner.id}/keys`, owner.auth);
    expect(listed.body).not.toContain(key.key);
    expect(listed.json<{ data: { items: unknown[] } }>().data.items).toEqual([
      expect.objectContaining({
        key_id: key.key_id,
        name: 'ci',
        rpm: 5,
        tokens_per_day: 1000,
        models: ['m1'],
        revoked: false,
      }),
    ]);

    const revoked = await call('DELETE', `/api/upload/${owner.id}/keys/${key.key_id}`, owner.auth);
    expect(revoked.json<{ data: { revoked: boolean } }>().data.revoked).toBe(true);
    expect((await call('DELETE', `/api/upload/${owner.id}/keys/key_nope`, owner.auth)).statusCode).toBe(404);
    expect((await call('GET', `/api/upload/${owner.id}/keys`, `${owner.id}:wrong`)).statusCode).toBe(401);

    const past = await call('POST', `/api/upload/${owner.id}/keys`, owner.auth, {
      name: 'old',
      expires_at: '2001-01-01T00:00:00Z',
    });
    expect([past.statusCode, past.json<{ message: string }>().message]).toEqual([
      422,
      'expires_at must be in the future',
    ]);
    const badRpm = await call('POST', `/api/upload/${owner.id}/keys`, owner.auth, { name: 'x', rpm: 0 });
    expect([badRpm.statusCode, badRpm.json<{ message: string }>().message]).toEqual([
      422,
      expect.stringContaining('rpm'),
    ]);
    for (let i = 0; i < 3; i++)
      expect(
        (await call('POST', `/api/upload/${owner.id}/keys`, owner.auth, { name: `k${i}` })).statusCode,
      ).toBe(200);
    expect(
      (await call('POST', `/api/upload/${owner.id}/keys`, owner.auth, { name: 'one too many' })).statusCode,
    ).toBe(409);
  });

  it('adds chats up per instance, key and minute, in batches that add to what is written', async () => {
    const created = await call('POST', `/api/upload/${owner.id}/keys`, owner.auth, { name: 'usage' });
    // The previous test filled the instance's key allowance; revoke one to make room.
    expect([200, 409]).toContain(created.statusCode);
    const items = (await call('GET', `/api/upload/${owner.id}/keys`, owner.auth)).json<{
      data: { items: Array<{ key_id: string; revoked: boolean; last_used_at: string | null }> };
    }>().data.items;
    const keyId = items.find((k) => !k.revoked)!.key_id;
    const t0 = Date.UTC(2026, 10, 29, 10, 0, 10);
    const chat = (keyIdOrNull: string | null, failed = false) => ({
      instanceId: owner.id,
      keyId: keyIdOrNull,
      endpoint: 'chat' as const,
      failed,
      promptTokens: 10,
      completionTokens: 5,
      firstChunkMs: 20,
    });
    recorder.record(chat(keyId), t0);
    recorder.record(chat(keyId, true), t0 + 1_000);
    recorder.record(chat(null), t0 + 2_000);
    recorder.record(chat(keyId), t0 + 60_000);
    await recorder.flush();
    recorder.record(chat(keyId), t0 + 3_000); // the same minute again: added, not replaced
    recorder.refused(owner.id, keyId, 'chat', 429, t0 + 4_000);
    recorder.refused(owner.id, null, 'chat', 401, t0 + 5_000);
    await recorder.flush();

    const query = (q: string) =>
      call(
        'GET',
        `/api/upload/${owner.id}/usage?from=2026-11-29T10:00:00Z&to=2026-11-29T12:00:00Z&${q}`,
        owner.auth,
      );
    const minutes = (await query(`granularity=minute&key_id=${keyId}`)).json<{ data: { items: unknown[] } }>()
      .data.items;
    expect(minutes).toEqual([
      {
        start: '2026-11-29T10:00:00Z',
        requests: 3,
        errors: 1,
        prompt_tokens: 30,
        completion_tokens: 15,
        avg_ttft_ms: 20,
        refused: { 401: 0, 403: 0, 422: 0, 429: 1, 503: 0 },
      },
      {
        start: '2026-11-29T10:01:00Z',
        requests: 1,
        errors: 0,
        prompt_tokens: 10,
        completion_tokens: 5,
        avg_ttft_ms: 20,
        refused: { 401: 0, 403: 0, 422: 0, 429: 0, 503: 0 },
      },
    ]);
    const hours = (await query('granularity=hour')).json<{ data: { items: unknown[] } }>().data.items;
    expect(hours).toEqual([
      expect.objectContaining({
        start: '2026-11-29T10:00:00Z',
        requests: 5,
        errors: 1,
        refused: { 401: 1, 403: 0, 422: 0, 429: 1, 503: 0 },
      }),
    ]);

    const after = (await call('GET', `/api/upload/${owner.id}/keys`, owner.auth)).json<{
      data: { items: Array<{ key_id: string; last_used_at: string | null }> };
    }>().data.items;
    expect(after.find((k) => k.key_id === keyId)?.last_used_at).toBe(new Date(t0 + 60_000).toISOString());

    expect((await query('granularity=week')).statusCode).toBe(422);
    expect((await query('granularity=minute&key_id=key_unknown')).statusCode).toBe(404);
    const backwards = await call(
      'GET',
      `/api/upload/${owner.id}/usage?from=2026-11-29T12:00:00Z&to=2026-11-29T10:00:00Z`,
      owner.auth,
    );
    expect(backwards.statusCode).toBe(422);
    const tooWide = await call(
      'GET',
      `/api/upload/${owner.id}/usage?from=2020-01-01T00:00:00Z&granularity=minute`,
      owner.auth,
    );
    expect([tooWide.statusCode, tooWide.json<{ message: string }>().message]).toEqual([
      422,
      expect.stringContaining('narrow'),
    ]);
  });

  it('sums usage per endpoint in by_endpoint, and narrows to one endpoint when asked', async () => {
    const t0 = Date.UTC(2026, 10, 30, 10, 0, 10);
    const use = (endpoint: 'chat' | 'embeddings', promptTokens: number, completionTokens: number) => ({
      instanceId: owner.id,
      keyId: null,
      endpoint,
      failed: false,
      promptTokens,
      completionTokens,
      firstChunkMs: null,
    });
    // One minute, one key (none): chat and embeddings must stay apart, not add into one row.
    recorder.record(use('chat', 10, 5), t0);
    recorder.record(use('embeddings', 3, 0), t0 + 1_000);
    await recorder.flush();
    recorder.record(use('embeddings', 4, 0), t0 + 2_000); // added to the written embeddings row
    recorder.refused(owner.id, null, 'embeddings', 429, t0 + 3_000);
    await recorder.flush();

    type Report = { items: Array<{ requests: number; prompt_tokens: number }>; by_endpoint: unknown };
    const query = async (q: string) => {
      const res = await call(
        'GET',
        `/api/upload/${owner.id}/usage?from=2026-11-30T10:00:00Z&to=2026-11-30T11:00:00Z&granularity=hour${q}`,
        owner.auth,
      );
      expect(res.statusCode).toBe(200);
      return res.json<{ data: Report }>().data;
    };
    const none = { 401: 0, 403: 0, 422: 0, 429: 0, 503: 0 };
    const all = await query('');
    expect(all.items).toEqual([expect.objectContaining({ requests: 3, prompt_tokens: 17 })]);
    expect(all.by_endpoint).toEqual({
      chat: { requests: 1, errors: 0, prompt_tokens: 10, completion_tokens: 5, refused: none },
      embeddings: {
        requests: 2,
        errors: 0,
        prompt_tokens: 7,
        completion_tokens: 0,
        refused: { ...none, 429: 1 },
      },
    });
    const embeddings = await query('&endpoint=embeddings');
    expect(embeddings.items).toEqual([expect.objectContaining({ requests: 2, prompt_tokens: 7 })]);
    expect(Object.keys(embeddings.by_endpoint as object)).toEqual(['embeddings']);
    const responses = await query('&endpoint=responses');
    expect([responses.items, responses.by_endpoint]).toEqual([[], {}]);

    const unknown = await call('GET', `/api/upload/${owner.id}/usage?endpoint=audio`, owner.auth);
    expect([unknown.statusCode, unknown.json<{ message: string }>().message]).toEqual([
      422,
      expect.stringMatching(/^endpoint: /),
    ]);
  });

  it('counts chats refused before they reach a host, by status, apart from requests', async () => {
    const chat = (body: unknown, instanceId = owner.id) =>
      app.inject({
        method: 'POST',
        url: `/api/chat/${instanceId}/chat/completions`,
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
    const from = new Date(Date.now() - 120_000).toISOString();
    expect((await chat({ messages: [] })).statusCode).toBe(422);
    expect((await chat({ messages: [{ role: 'user', content: 'hi' }] })).statusCode).toBe(503);
    expect((await chat({ messages: [] }, 'no-such-instance')).statusCode).toBe(422);
    await new Promise((resolve) => setImmediate(resolve)); // counted after the answer
    await recorder.flush();
    const to = new Date(Date.now() + 60_000).toISOString();
    const res = await call(
      'GET',
      `/api/upload/${owner.id}/usage?from=${from}&to=${to}&granularity=day`,
      owner.auth,
    );
    const data = res.json<{ data: { items: unknown[]; by_endpoint: unknown } }>().data;
    const refused = { 401: 0, 403: 0, 422: 1, 429: 0, 503: 1 };
    expect(data.items).toEqual([expect.objectContaining({ requests: 0, refused })]);
    expect(data.by_endpoint).toEqual({ chat: expect.objectContaining({ requests: 0, refused }) });
  });

  it("counts today's tokens of a key from what is written and what this node holds", async () => {
    const key = (await call('GET', `/api/upload/${owner.id}/keys`, owner.auth))
      .json<{
        data: { items: Array<{ key_id: string; revoked: boolean }> };
      }>()
      .data.items.find((k) => !k.revoked)!.key_id;
    const before = await recorder.tokensToday(key);
    recorder.record({
      instanceId: owner.id,
      keyId: key,
      endpoint: 'chat',
      failed: false,
      promptTokens: 7,
      completionTokens: 3,
      firstChunkMs: null,
    });
    expect(await recorder.tokensToday(key)).toBe(before + 10);
    await recorder.flush();
    expect(await recorder.tokensToday(key)).toBe(before + 10);
  });
});
