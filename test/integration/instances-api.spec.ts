import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { rmSync } from 'node:fs';
import { APP_CONFIG, type AppConfig } from '../../apps/registry/src/config/app-config';
import { createRegistryApp } from '../../apps/registry/src/create-app';
import { InstanceEvents } from '../../apps/registry/src/instances/instance-events';
import { InstanceHoldersRepository } from '../../apps/registry/src/instances/instance-holders.repository';
import { createTestDatabase } from '../support/postgres';
import { testConfig } from '../support/registry-config';

type Mode = 'pglite' | 'postgresql';

describe.each<Mode>(['pglite', 'postgresql'])('instance REST API on %s', (mode) => {
  let app: NestFastifyApplication;
  let dropDatabase: (() => Promise<void>) | undefined;
  let dataDir: string | undefined;

  beforeAll(async () => {
    let databaseUrl: string | undefined;
    if (mode === 'postgresql') {
      const db = await createTestDatabase('api');
      databaseUrl = db.url;
      dropDatabase = db.drop;
    }
    const config = testConfig({ DATABASE_URL: databaseUrl });
    dataDir = config.dataDir;
    app = await createRegistryApp(config);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  afterAll(async () => {
    await app?.close();
    await dropDatabase?.();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const inject = (opts: {
    method: 'GET' | 'POST' | 'PUT' | 'DELETE';
    url: string;
    body?: unknown;
    auth?: string;
    payload?: string;
    headers?: Record<string, string>;
  }) =>
    app.inject({
      method: opts.method,
      url: opts.url,
      headers: {
        ...(opts.auth ? { authorization: `Bearer ${opts.auth}` } : {}),
        ...(opts.body !== undefined || opts.payload ? { 'content-type': 'application/json' } : {}),
        ...opts.headers,
      },
      payload: opts.payload ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined),
    });

  async function register(name = 'my model', extra: Record<string, unknown> = {}) {
    const res = await inject({
      method: 'POST',
      url: '/api/upload/register',
      body: {
        upload_name: name,
        instance_id: null,
        description: 'a test',
        email: 'alice@example.com',
        config: { model_name: 'llama3', is_cot: false },
        ...extra,
      },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.code).toBe(0);
    return body.data as {
      instance_id: string;
      instance_password: string;
      status: string;
      upload_name: string;
      ws_url: string;
    };
  }

  it('registers like a stock Second Me client and shows the password once', async () => {
    const data = await register();
    expect(data.instance_id).toMatch(/^[a-z0-9]{12}$/);
    expect(Buffer.from(data.instance_password, 'base64url')).toHaveLength(32);
    expect(data.status).toBe('registered');
    expect(data.ws_url).toMatch(new RegExp(`^ws://[^/]+/api/ws/${data.instance_id}$`));

    const detail = await inject({
      method: 'GET',
      url: `/api/upload/${data.instance_id}`,
      auth: `${data.instance_id}:${data.instance_password}`,
    });
    expect(detail.statusCode).toBe(200);
    expect(detail.json().data).toMatchObject({
      upload_name: 'my model',
      instance_id: data.instance_id,
      status: 'registered',
      email: 'alice@example.com',
      is_connected: false,
      last_heartbeat: null,
    });
    expect(JSON.stringify(detail.json())).not.toContain(data.instance_password);
  });

  it('answers 401 for a wrong password and the same 401 for someone else’s id', async () => {
    const a = await register('a');
    const b = await register('b');
    const wrong = await inject({
      method: 'GET',
      url: `/api/upload/${a.instance_id}`,
      auth: `${a.instance_id}:nope`,
    });
    const foreign = await inject({
      method: 'GET',
      url: `/api/upload/${a.instance_id}`,
      auth: `${b.instance_id}:${b.instance_password}`,
    });
    const missing = await inject({ method: 'GET', url: `/api/upload/${a.instance_id}` });
    for (const res of [wrong, foreign, missing]) {
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 401, data: null });
    }
    expect(wrong.json()).toEqual(foreign.json());
  });

  it('updates metadata and reports the updated fields', async () => {
    const a = await register();
    const res = await inject({
      method: 'PUT',
      url: `/api/upload/${a.instance_id}`,
      auth: `${a.instance_id}:${a.instance_password}`,
      body: { upload_name: 'renamed', description: 'new', capabilities: { vision: true } },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual({
      instance_id: a.instance_id,
      status: 'registered',
      upload_name: 'renamed',
      updated_fields: ['upload_name', 'capabilities', 'description'],
    });
  });

  it('null clears email, description and capabilities on update, and cannot clear the name', async () => {
    const a = await register();
    const auth = `${a.instance_id}:${a.instance_password}`;
    const cleared = await inject({
      method: 'PUT',
      url: `/api/upload/${a.instance_id}`,
      auth,
      body: { description: null, email: null, capabilities: null },
    });
    expect(cleared.statusCode).toBe(200);
    expect(cleared.json().data.updated_fields).toEqual(['capabilities', 'email', 'description']);
    const detail = await inject({ method: 'GET', url: `/api/upload/${a.instance_id}`, auth });
    expect(detail.json().data).toMatchObject({ description: '', email: '', capabilities: null });
    const unnamed = await inject({
      method: 'PUT',
      url: `/api/upload/${a.instance_id}`,
      auth,
      body: { upload_name: null },
    });
    expect(unnamed.statusCode).toBe(422);
    expect(unnamed.json().message).toContain('upload_name');
  });

  it('re-registers with credentials, rotating the password', async () => {
    const a = await register();
    const again = await inject({
      method: 'POST',
      url: '/api/upload/register',
      auth: `${a.instance_id}:${a.instance_password}`,
      body: { upload_name: 'again', instance_id: a.instance_id, config: {} },
    });
    expect(again.statusCode).toBe(200);
    const data = again.json().data;
    expect(data.instance_id).toBe(a.instance_id);
    expect(data.instance_password).not.toBe(a.instance_password);
    const old = await inject({
      method: 'GET',
      url: `/api/upload/${a.instance_id}`,
      auth: `${a.instance_id}:${a.instance_password}`,
    });
    expect(old.statusCode).toBe(401);
    const fresh = await inject({
      method: 'GET',
      url: `/api/upload/${a.instance_id}`,
      auth: `${a.instance_id}:${data.instance_password}`,
    });
    expect(fresh.json().data.upload_name).toBe('again');

    const noAuth = await inject({
      method: 'POST',
      url: '/api/upload/register',
      body: { upload_name: 'x', instance_id: a.instance_id },
    });
    expect(noAuth.statusCode).toBe(401);
  });

  it('deletes: detail then answers 404, and the id is no longer listed', async () => {
    const a = await register('to delete');
    const auth = `${a.instance_id}:${a.instance_password}`;
    const del = await inject({ method: 'DELETE', url: `/api/upload/${a.instance_id}`, auth });
    expect(del.statusCode).toBe(200);
    expect(del.json().data).toEqual({ instance_id: a.instance_id, status: 'unregistered' });
    const detail = await inject({ method: 'GET', url: `/api/upload/${a.instance_id}`, auth });
    expect(detail.statusCode).toBe(404);
    expect(detail.json().code).toBe(404);
    const list = await inject({ method: 'GET', url: '/api/upload/list?page_no=1&page_size=100' });
    expect(list.json().data.items.map((i: { instance_id: string }) => i.instance_id)).not.toContain(
      a.instance_id,
    );
  });

  it("lists model_reachable from the live holders' rows: null offline, false only when every live holder's models are down", async () => {
    const a = await register('model health');
    const holders = app.get(InstanceHoldersRepository);
    const self = app.get<AppConfig>(APP_CONFIG).nodeId;
    const item = async () => {
      // What a node's own holding writes announce (the directory's cache starts over).
      app.get(InstanceEvents).emit('holdersChanged', { instanceId: a.instance_id });
      const list = await inject({ method: 'GET', url: '/api/upload/list?page_size=100' });
      return (
        list.json().data.items as Array<{ instance_id: string; status: string; model_reachable: unknown }>
      )
        .filter((i) => i.instance_id === a.instance_id)
        .map((i) => `${i.status}:${String(i.model_reachable)}`)[0];
    };
    expect(await item()).toBe('registered:null');
    await holders.hold(a.instance_id, self, true);
    expect(await item()).toBe('online:false');
    // A node that is not alive does not count, whatever its row says.
    await holders.hold(a.instance_id, 'dead-node', false);
    expect(await item()).toBe('online:false');
    await holders.hold(a.instance_id, self, false);
    expect(await item()).toBe('online:true');
    await holders.release(a.instance_id, self);
    await holders.release(a.instance_id, 'dead-node');
    expect(await item()).toBe('registered:null');
  });

  it('lists with pagination, a repeatable status filter, masked emails and no secrets; counts', async () => {
    const before = (await inject({ method: 'GET', url: '/api/upload/count' })).json().data.count as number;
    const created = [await register('p1'), await register('p2'), await register('p3')];
    const count = await inject({ method: 'GET', url: '/api/upload/count' });
    expect(count.json()).toEqual({ code: 0, message: 'success', data: { count: before + 3 } });

    const page = await inject({
      method: 'GET',
      url: `/api/upload/list?page_no=1&page_size=2&status=online&status=registered`,
    });
    expect(page.statusCode).toBe(200);
    const data = page.json().data;
    expect(data.items).toHaveLength(2);
    expect(data.pagination).toEqual({
      page_no: 1,
      page_size: 2,
      total: before + 3,
      total_pages: Math.ceil((before + 3) / 2),
    });
    expect(Object.keys(data.items[0]).sort()).toEqual([
      'description',
      'email',
      'instance_id',
      'model_reachable',
      'models',
      'status',
      'upload_name',
    ]);
    expect(data.items[0].email).toBe('a***@example.com');
    const text = page.body;
    for (const c of created) expect(text).not.toContain(c.instance_password);

    const online = await inject({ method: 'GET', url: '/api/upload/list?status=online' });
    expect(online.json().data.pagination.total).toBe(0);
    const onlineCount = await inject({ method: 'GET', url: '/api/upload/count?status=online' });
    expect(onlineCount.json().data.count).toBe(0);
  });

  it('manages roles of an instance', async () => {
    const a = await register();
    const auth = `${a.instance_id}:${a.instance_password}`;
    const role = {
      role_id: 'r1',
      instance_id: a.instance_id,
      name: 'Tutor',
      description: 'd',
      system_prompt: 'Be kind',
      is_active: true,
      icon: '',
      enable_l0_retrieval: true,
      enable_l1_retrieval: false,
    };
    const created = await inject({ method: 'POST', url: '/api/roles', auth, body: role });
    expect(created.statusCode).toBe(200);
    expect(created.json().data).toMatchObject(role);
    const list = await inject({ method: 'GET', url: `/api/roles/${a.instance_id}`, auth });
    expect(list.json().data.items).toHaveLength(1);
    const other = await register('other');
    const foreign = await inject({
      method: 'POST',
      url: '/api/roles',
      auth: `${other.instance_id}:${other.instance_password}`,
      body: role,
    });
    expect(foreign.statusCode).toBe(401);
    // null clears a text field and leaves a flag as it was.
    const nulls = await inject({
      method: 'POST',
      url: '/api/roles',
      auth,
      body: { ...role, description: null, system_prompt: null, icon: null, is_active: null },
    });
    expect(nulls.statusCode).toBe(200);
    expect(nulls.json().data).toMatchObject({
      description: '',
      system_prompt: '',
      icon: '',
      is_active: true,
    });
  });

  describe('bad input gets a 4xx naming the problem', () => {
    it.each([
      [{ instance_id: null }, 'upload_name'],
      [{ upload_name: 42 }, 'upload_name'],
      [{ upload_name: 'x', config: 'not an object' }, 'config'],
      [{ upload_name: 'x', email: ['a'] }, 'email'],
    ])('%j → 422 naming %s', async (body, field) => {
      const res = await inject({ method: 'POST', url: '/api/upload/register', body });
      expect(res.statusCode).toBe(422);
      expect(res.json().code).toBe(422);
      expect(res.json().message).toContain(field);
    });

    it('text the database cannot store → 422 naming where, before any handler (register and chat)', async () => {
      const res = await inject({
        method: 'POST',
        url: '/api/upload/register',
        body: { upload_name: 'x', config: { notes: ['ok', 'a\u0000b'] } },
      });
      expect(res.statusCode).toBe(422);
      expect(res.json().message).toBe(
        'body.config.notes.1: text must not contain NUL characters or unpaired surrogates',
      );
      const chat = await inject({
        method: 'POST',
        url: '/api/chat/no-such-instance/chat/completions',
        body: { messages: [{ role: 'user', content: 'a\ud800' }] },
      });
      // 422, not the 404 the handler would give: the hook answered first.
      expect(chat.statusCode).toBe(422);
      expect(chat.json().error.message).toBe(
        'body.messages.0.content: text must not contain NUL characters or unpaired surrogates',
      );
    });

    it('malformed JSON → 400', async () => {
      const res = await inject({ method: 'POST', url: '/api/upload/register', payload: '{"upload_name": ' });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 400, data: null });
      expect(res.json().message).toMatch(/JSON/i);
    });

    it('oversized body → 413, and the process still serves', async () => {
      const res = await inject({
        method: 'POST',
        url: '/api/upload/register',
        payload: JSON.stringify({ upload_name: 'x', description: 'y'.repeat(2 * 1024 * 1024) }),
      });
      expect(res.statusCode).toBe(413);
      expect(res.json().code).toBe(413);
      const ok = await inject({ method: 'GET', url: '/api/upload/count' });
      expect(ok.statusCode).toBe(200);
    });

    it('bad pagination → 422', async () => {
      const res = await inject({ method: 'GET', url: '/api/upload/list?page_size=1000' });
      expect(res.statusCode).toBe(422);
      expect(res.json().message).toContain('page_size');
      const status = await inject({ method: 'GET', url: '/api/upload/list?status=sleeping' });
      expect(status.statusCode).toBe(422);
      expect(status.json().message).toContain('status');
    });
  });

  it('serves an OpenAPI description generated from the code', async () => {
    const res = await inject({ method: 'GET', url: '/docs/openapi.json' });
    expect(res.statusCode).toBe(200);
    const paths = Object.keys(res.json().paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/api/upload/register',
        '/api/upload/list',
        '/api/upload/{instanceId}',
        '/api/roles',
        '/api/chat/{instanceId}/chat/completions',
        '/api/chat/{instanceId}/embeddings',
        '/api/chat/{instanceId}/completions',
        '/api/chat/{instanceId}/responses',
        '/api/chat/{instanceId}/v1/messages',
        '/api/chat/{instanceId}/rerank',
        '/api/chat/{instanceId}/audio/transcriptions',
      ]),
    );
    // The chat routes take their call from the request object; their path parameter is still documented.
    for (const chat of ['/api/chat/{instanceId}', '/api/chat/{instanceId}/chat/completions']) {
      expect(res.json().paths[chat].post.parameters).toEqual([
        { name: 'instanceId', required: true, in: 'path', schema: { type: 'string' } },
      ]);
    }
    const usage = res.json<{
      paths: Record<string, { get: { parameters: Array<{ name: string; schema: { enum?: string[] } }> } }>;
    }>().paths['/api/upload/{instanceId}/usage'].get;
    expect(usage.parameters.find((p) => p.name === 'endpoint')?.schema.enum).toEqual([
      'chat',
      'embeddings',
      'completions',
      'responses',
      'messages',
      'rerank',
      'transcriptions',
    ]);
  });
});
