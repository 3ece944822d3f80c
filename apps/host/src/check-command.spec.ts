import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFakeModel, type FakeModel } from '../../../test/support/fake-model-server';
import { freePort } from '../../../test/support/redis-server';
import { runChecks } from './check-command';
import type { HostConfig } from './config';
import { createMemoryLogger } from './logger';
import { instanceUrl, probeRegistry } from './registry-probe';

const ID = 'inst1';
const PASSWORD = 'right-password';

/** Answers GET /base/api/upload/<id> the way the registry does (its envelope), or as `other` says. */
async function fakeRegistry(other?: { status: number; type: string; body: string }): Promise<Server> {
  const server = createServer((req, res) => {
    if (other) {
      res.writeHead(other.status, { 'content-type': other.type }).end(other.body);
      return;
    }
    const envelope = (status: number, message: string) =>
      res
        .writeHead(status, { 'content-type': 'application/json' })
        .end(JSON.stringify({ code: status === 200 ? 0 : status, message, data: null }));
    if (req.url !== `/base/api/upload/${ID}`) return envelope(404, 'instance not found');
    if (req.headers.authorization !== `Bearer ${ID}:${PASSWORD}`)
      return envelope(401, 'invalid instance id or password');
    envelope(200, 'success');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}
const urlOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/base`;

describe('probeRegistry', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('builds the instance URL over http(s) whatever scheme --registry has', () => {
    expect(instanceUrl('ws://h:3000/base', 'a b')).toBe('http://h:3000/base/api/upload/a%20b');
    expect(instanceUrl('wss://h', 'i')).toBe('https://h/api/upload/i');
  });

  it('tells accepted, wrong password, unknown instance, not a registry and unreachable apart', async () => {
    server = await fakeRegistry();
    expect(await probeRegistry(urlOf(server), ID, PASSWORD)).toEqual({ kind: 'accepted' });
    expect(await probeRegistry(urlOf(server), ID, 'wrong')).toEqual({ kind: 'unauthorized' });
    expect(await probeRegistry(urlOf(server), 'other', PASSWORD)).toEqual({ kind: 'not_found' });
    await new Promise<void>((resolve) => server!.close(() => resolve()));

    server = await fakeRegistry({ status: 404, type: 'text/plain', body: '404 page not found' });
    expect(await probeRegistry(urlOf(server), ID, PASSWORD)).toEqual({ kind: 'unexpected', status: 404 });

    const closed = await freePort();
    expect(await probeRegistry(`http://127.0.0.1:${closed}`, ID, PASSWORD)).toEqual({
      kind: 'unreachable',
      error: expect.stringMatching(/^connect ECONNREFUSED 127.0.0.1:\d+$/),
    });
  });

  it('gives up on a registry that never answers', async () => {
    server = createServer(() => undefined);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    expect(await probeRegistry(urlOf(server), ID, PASSWORD, { timeoutMs: 100 })).toEqual({
      kind: 'unreachable',
      error: 'no answer within 100 ms',
    });
    server.closeAllConnections();
  });
});

describe('runChecks (--check)', () => {
  let registry: Server;
  let model: FakeModel;
  beforeAll(async () => {
    [registry, model] = await Promise.all([fakeRegistry(), startFakeModel({ models: ['m1', 'm2'] })]);
  });
  afterAll(async () => {
    await Promise.all([new Promise<void>((resolve) => registry.close(() => resolve())), model.close()]);
  });

  const config = (overrides: Partial<HostConfig>) =>
    ({
      registryUrls: [urlOf(registry)],
      instanceId: ID,
      password: PASSWORD,
      upstreamUrl: model.url,
      ...overrides,
    }) as HostConfig;

  it('exits 0 when everything passes, with a line per check', async () => {
    const logger = createMemoryLogger();
    expect(await runChecks(config({ model: 'm2' }), { logger })).toBe(0);
    expect(logger.lines.map((l) => l.message)).toEqual([
      `ok: registry ${urlOf(registry)} accepts instance ${ID} and its password`,
      `ok: upstream ${model.url} serves m1, m2`,
      'ok: --model m2 is among them',
      'all checks passed',
    ]);
  });

  it('exits 4 naming a dead upstream, and 1 for a refused password first', async () => {
    const dead = `http://127.0.0.1:${await freePort()}/v1`;
    const logger = createMemoryLogger();
    expect(await runChecks(config({ upstreamUrl: dead }), { logger })).toBe(4);
    expect(logger.lines.filter((l) => l.level === 'error').map((l) => l.message)).toEqual([
      expect.stringMatching(
        new RegExp(`^cannot list the models of the upstream at ${dead} \\(.*ECONNREFUSED`),
      ),
      '1 check failed; exit code 4',
    ]);
    expect(
      await runChecks(config({ upstreamUrl: dead, password: 'wrong' }), { logger: createMemoryLogger() }),
    ).toBe(1);
  });

  it('exits 6 when --model is not served', async () => {
    expect(await runChecks(config({ model: 'llama3' }), { logger: createMemoryLogger() })).toBe(6);
  });
});
