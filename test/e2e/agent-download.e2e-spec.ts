import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FakeModel, startFakeModel } from '../support/fake-model-server';
import { DIST, RunningRegistry, startRegistry, TestProcess } from '../support/processes';
import { freePort } from '../support/redis-server';
import { eventually, instanceDetail, Registered } from '../support/registry-client';

const BUNDLE = path.join(path.dirname(DIST.host), '..', 'agent.mjs');

/** Registers an instance that names a model its host's model server does not serve. */
async function register(baseUrl: string): Promise<Registered> {
  const res = await fetch(`${baseUrl}/api/upload/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      upload_name: 'one-file agent',
      instance_id: null,
      description: '',
      config: { model_name: 'llama3' },
    }),
  });
  const { data } = (await res.json()) as { data: { instance_id: string; instance_password: string } };
  return {
    instanceId: data.instance_id,
    password: data.instance_password,
    auth: `Bearer ${data.instance_id}:${data.instance_password}`,
  };
}

describe('the agent as one file, downloaded from a registry node and run with node alone', () => {
  let registry: RunningRegistry;
  let model: FakeModel;
  let dir: string;
  const agents: TestProcess[] = [];

  /** `node agent.mjs …` in the download folder, with nothing but PATH and HOME in its environment. */
  const runAgent = (args: string[]) => {
    const child = spawn(process.execPath, ['agent.mjs', ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = new TestProcess('agent.mjs', child);
    agents.push(proc);
    return proc;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'agent-download-'));
    [registry, model] = await Promise.all([startRegistry({}), startFakeModel({ models: ['fake-model'] })]);
  });
  afterAll(async () => {
    await Promise.all([...agents.map((a) => a.stop('SIGKILL')), registry?.proc.stop(), model?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves GET /agent.mjs (the bundle built with it) and /agent.mjs.sha256, with validators', async () => {
    const res = await fetch(`${registry.url}/agent.mjs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.equals(readFileSync(BUNDLE))).toBe(true);
    expect(body.subarray(0, 20).toString()).toBe('#!/usr/bin/env node\n');

    const checksum = await (await fetch(`${registry.url}/agent.mjs.sha256`)).text();
    const sha256 = createHash('sha256').update(body).digest('hex');
    expect(checksum).toBe(`${sha256}  agent.mjs\n`);

    const etag = res.headers.get('etag')!;
    expect(etag).toContain(sha256);
    expect((await fetch(`${registry.url}/agent.mjs`, { headers: { 'if-none-match': etag } })).status).toBe(
      304,
    );
    const gzip = await fetch(`${registry.url}/agent.mjs`, { headers: { 'accept-encoding': 'gzip' } });
    console.log(
      `agent.mjs: ${body.length} bytes, ${gzip.headers.get('content-length')} bytes gzip on the wire`,
    );
    writeFileSync(path.join(dir, 'agent.mjs'), body);
  });

  it('connects with --password-file from an empty folder (no node_modules) and serves a chat', async () => {
    const instance = await register(registry.url);
    writeFileSync(path.join(dir, 'password'), `${instance.password}\n`, { mode: 0o600 });
    expect(readdirSync(dir).sort()).toEqual(['agent.mjs', 'password']);
    const agent = runAgent([
      '--registry',
      registry.url,
      '--instance',
      instance.instanceId,
      '--password-file',
      'password',
      '--upstream',
      model.url,
    ]);
    await agent.waitFor(/connected to/, 15_000);
    await eventually(async () => (await instanceDetail(registry.url, instance)).status === 'online', 5_000);

    const answer = await fetch(`${registry.url}/api/chat/${instance.instanceId}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Hello?' }] }),
    });
    expect(answer.status).toBe(200);
    const completion = (await answer.json()) as { choices: Array<{ message: { content: string } }> };
    expect(completion.choices[0].message.content).toContain('Hello from the fake model');

    // The host announced its model server's models: the registered "llama3" is not offered.
    const models = (await (await fetch(`${registry.url}/api/chat/${instance.instanceId}/models`)).json()) as {
      data: Array<{ id: string }>;
    };
    expect(models.data.map((m) => m.id)).toEqual(['fake-model']);
    expect(agent.output.join('\n')).not.toContain(instance.password);
  });

  it('--check passes against a live registry and model server, and exits 4 naming a dead upstream', async () => {
    const instance = await register(registry.url);
    const env = [
      '--registry',
      registry.url,
      '--instance',
      instance.instanceId,
      '--password-file',
      'password',
    ];
    writeFileSync(path.join(dir, 'password'), `${instance.password}\n`, { mode: 0o600 });

    const live = runAgent([...env, '--upstream', model.url, '--check']);
    expect(await live.exited).toBe(0);
    expect(live.output.join('\n')).toContain('all checks passed');

    const dead = `http://127.0.0.1:${await freePort()}/v1`;
    const check = runAgent([...env, '--upstream', dead, '--check']);
    expect(await check.exited).toBe(4);
    expect(check.output.join('\n')).toMatch(
      new RegExp(
        `cannot list the models of the upstream at ${dead} \\(connect ECONNREFUSED [^)]*\\) — start the model server`,
      ),
    );
  });
});
