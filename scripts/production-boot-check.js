#!/usr/bin/env node
// What the Docker image does, without Docker: a production install (`npm ci --omit=dev`) of the
// built tree in a scratch folder, then the registry boots there against a fresh PostgreSQL
// database with migrations on, an instance is registered, the host agent from that same tree
// connects to a fake model, and a chat must stream to [DONE]; then it boots once more with no
// settings (embedded PGlite, as a bare `docker run`). Catches a runtime import from a dev
// dependency, which no test running in the dev tree can see.
//
//   npm run build && node scripts/production-boot-check.js
//
// Needs PostgreSQL (TEST_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/postgres) and
// Redis (CHECK_REDIS_URL, default redis://127.0.0.1:6379). Exits non-zero, saying why, on any failure.
const { spawn, spawnSync } = require('node:child_process');
const { cpSync, existsSync, mkdtempSync, rmSync } = require('node:fs');
const { randomBytes } = require('node:crypto');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.CHECK_REDIS_URL ?? 'redis://127.0.0.1:6379';
// The files the image's runtime stage holds (keep in step with the Dockerfile).
const INSTALL_FILES = ['package.json', 'package-lock.json', '.npmrc'];
const BUILT_PATHS = ['dist/apps', 'dist/libs', 'prisma'];
const FAKE_MODEL = path.join(ROOT, 'dist/test/support/fake-model-main.js');

class CheckFailed extends Error {}

function step(message) {
  console.log(`production-boot-check: ${message}`);
}

/** A child process whose output is kept, so a failure can show it. */
function start(name, script, cwd, env) {
  const child = spawn(process.execPath, [script], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = { name, child, output: [], listeners: new Set() };
  const collect = (chunk) => {
    for (const line of chunk.toString().split('\n')) if (line.trim()) proc.output.push(line);
    for (const listener of proc.listeners) listener();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  proc.exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      resolve(code ?? signal);
      for (const listener of proc.listeners) listener();
    }),
  );
  return proc;
}

const running = (proc) => proc.child.exitCode === null && proc.child.signalCode === null;

function waitFor(proc, pattern, timeoutMs) {
  return new Promise((resolve, reject) => {
    const fail = (why) => {
      done();
      reject(new CheckFailed(`${proc.name} ${why}; its output:\n${proc.output.slice(-40).join('\n')}`));
    };
    const check = () => {
      const line = proc.output.find((l) => pattern.test(l));
      if (line !== undefined) {
        done();
        resolve(line);
      } else if (!running(proc))
        fail(`exited (${proc.child.exitCode ?? proc.child.signalCode}) before printing ${pattern}`);
    };
    const timer = setTimeout(() => fail(`did not print ${pattern} within ${timeoutMs / 1000} s`), timeoutMs);
    const done = () => {
      clearTimeout(timer);
      proc.listeners.delete(check);
    };
    proc.listeners.add(check);
    check();
  });
}

async function stop(proc) {
  if (!running(proc)) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 10_000);
  await proc.exited;
  clearTimeout(timer);
}

/** Runs an admin statement with `pg` from the dev tree (the checked tree is not needed for this). */
async function admin(sql) {
  const { Client } = require(require.resolve('pg', { paths: [ROOT] }));
  const client = new Client({ connectionString: POSTGRES_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

function productionInstall(stage) {
  for (const file of INSTALL_FILES) cpSync(path.join(ROOT, file), path.join(stage, file));
  step(`npm ci --omit=dev --ignore-scripts in ${stage}`);
  const npm = spawnSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: stage,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (npm.status !== 0) throw new CheckFailed(`npm ci --omit=dev failed (exit ${npm.status ?? npm.error})`);
  for (const built of BUILT_PATHS)
    cpSync(path.join(ROOT, built), path.join(stage, built), { recursive: true });
}

async function json(res, what) {
  const text = await res.text();
  if (res.status !== 200) throw new CheckFailed(`${what} answered ${res.status}: ${text}`);
  return JSON.parse(text);
}

async function check(stage, databaseUrl, procs) {
  productionInstall(stage);

  const fakeModel = start('fake model', FAKE_MODEL, ROOT, {});
  procs.push(fakeModel);
  const upstream = JSON.parse(await waitFor(fakeModel, /"url"/, 15_000)).url;

  step('starting the registry from the production tree (PostgreSQL, migrations on start, Redis)');
  const registry = start('registry', 'dist/apps/registry/src/main.js', stage, {
    NODE_ENV: 'production',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    MIGRATE_ON_START: 'true',
    REDIS_URL,
    REDIS_PREFIX: `mreg-prodcheck-${randomBytes(4).toString('hex')}`,
    REGISTRY_ANNOUNCE_PORT: '1',
  });
  procs.push(registry);
  const { port } = JSON.parse(await waitFor(registry, /"event":"listening"/, 90_000));
  const base = `http://127.0.0.1:${port}`;

  // The image's HEALTHCHECK asks /readyz; the README points at the API docs and the agent download.
  for (const page of ['/readyz', '/docs', '/agent.mjs']) {
    const res = await fetch(`${base}${page}`);
    if (res.status !== 200) throw new CheckFailed(`GET ${page} answered ${res.status}: ${await res.text()}`);
  }

  const registered = await json(
    await fetch(`${base}/api/upload/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        upload_name: 'production boot check',
        instance_id: null,
        description: '',
        email: '',
        config: { model_name: 'fake-model' },
      }),
    }),
    'register',
  );
  const { instance_id: instanceId, instance_password: password } = registered.data;
  step(`registered instance ${instanceId}`);

  const agent = start('host agent', 'dist/apps/host/src/main.js', stage, {
    NODE_ENV: 'production',
    REGISTRY_URL: base,
    INSTANCE_ID: instanceId,
    INSTANCE_PASSWORD: password,
    UPSTREAM_URL: upstream,
  });
  procs.push(agent);
  await waitFor(agent, /connected to/, 30_000);
  step('host agent connected');

  const res = await fetch(`${base}/api/chat/${instanceId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'Hello from the production boot check' }] }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = await res.text();
  if (res.status !== 200) throw new CheckFailed(`chat answered ${res.status}: ${body}`);
  const events = body
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => line.slice(6));
  const content = events
    .slice(0, -1)
    .map((data) => JSON.parse(data).choices?.[0]?.delta?.content ?? '')
    .join('');
  if (events.at(-1) !== '[DONE]' || content === '')
    throw new CheckFailed(`chat did not stream content ending in [DONE]:\n${body.slice(-2000)}`);
  step(`chat streamed ${events.length - 1} chunks ("${content.slice(0, 40)}…") and [DONE]`);

  // `docker run` with no settings: embedded PGlite under the working directory's .data/.
  step('starting the registry from the production tree in embedded mode (PGlite, no settings)');
  const embedded = start('embedded registry', 'dist/apps/registry/src/main.js', stage, {
    NODE_ENV: 'production',
    PORT: '0',
    HOST: '127.0.0.1',
    REGISTRY_ANNOUNCE_PORT: '1',
  });
  procs.push(embedded);
  const embeddedPort = JSON.parse(await waitFor(embedded, /"event":"listening"/, 90_000)).port;
  const ready = await fetch(`http://127.0.0.1:${embeddedPort}/readyz`);
  if (ready.status !== 200)
    throw new CheckFailed(`embedded /readyz answered ${ready.status}: ${await ready.text()}`);
  step('embedded mode ready');
}

async function main() {
  for (const built of [...BUILT_PATHS, FAKE_MODEL])
    if (!existsSync(path.resolve(ROOT, built)))
      throw new CheckFailed(`${built} is missing: run npm run build first`);
  const stage = mkdtempSync(path.join(os.tmpdir(), 'mreg-prodcheck-'));
  const dbName = `mreg_prodcheck_${randomBytes(4).toString('hex')}`;
  const databaseUrl = new URL(POSTGRES_ADMIN_URL);
  databaseUrl.pathname = `/${dbName}`;
  const procs = [];
  let ok = false;
  try {
    await admin(`CREATE DATABASE "${dbName}"`);
    await check(stage, databaseUrl.toString(), procs);
    ok = true;
  } finally {
    // Agent first, so the registry's drain has nothing to wait for.
    for (const proc of procs.reverse()) await stop(proc);
    await admin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch((error) =>
      console.error(`production-boot-check: could not drop database ${dbName}: ${error.message}`),
    );
    rmSync(stage, { recursive: true, force: true });
  }
  if (ok) step('passed');
}

main().catch((error) => {
  console.error(
    `production-boot-check: FAILED: ${error instanceof CheckFailed ? error.message : error.stack}`,
  );
  process.exit(1);
});
