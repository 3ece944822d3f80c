import { PrismaService } from '../../apps/registry/src/database/prisma.service';
import { KeyRetention } from '../../apps/registry/src/keys/key-retention';
import { DatabaseMode, InProcessRegistry, Owner, startRegistryApp } from '../support/registry-app';

const DAY_MS = 86_400_000;

interface KeyItem {
  key_id: string;
  name: string;
  revoked: boolean;
}
interface KeyPage {
  items: KeyItem[];
  pagination: { page_no: number; page_size: number; total: number; total_pages: number };
}
interface Failure {
  message: string;
}

describe.each<DatabaseMode>(['pglite', 'postgresql'])('what keys may cost, on %s', (mode) => {
  let registry: InProcessRegistry;
  let prisma: PrismaService;

  beforeAll(async () => {
    registry = await startRegistryApp(mode, 'keybounds', {
      KEYS_PER_INSTANCE: '3',
      KEYS_STORED_PER_INSTANCE: '10',
      KEY_CREATES_PER_HOUR: '6',
      KEY_RETENTION_DAYS: '30',
      CHAT_HOLD_MS: '0',
    });
    prisma = registry.app.get(PrismaService);
  });
  afterAll(async () => {
    await registry?.close();
  });

  const create = (owner: Owner, body: Record<string, unknown>) =>
    registry.call('POST', `/api/upload/${owner.id}/keys`, owner.auth, body);
  const createOk = async (owner: Owner, name: string) => {
    const res = await create(owner, { name });
    expect([name, res.statusCode, res.body]).toEqual([name, 200, expect.any(String)]);
    return res.json<{ data: { key: string; key_id: string } }>().data;
  };
  const revoke = async (owner: Owner, keyId: string) =>
    expect(
      (await registry.call('DELETE', `/api/upload/${owner.id}/keys/${keyId}`, owner.auth)).statusCode,
    ).toBe(200);
  const page = async (owner: Owner, query = '') => {
    const res = await registry.call('GET', `/api/upload/${owner.id}/keys${query}`, owner.auth);
    expect(res.statusCode).toBe(200);
    return res.json<{ data: KeyPage }>().data;
  };
  /** Moves every key of the instance out of the last hour, as if created long ago. */
  const age = (owner: Owner) =>
    prisma.accessKey.updateMany({
      where: { instanceId: owner.id },
      data: { createdAt: new Date(Date.now() - 2 * 3_600_000) },
    });

  it('pages the key list like /api/upload/list, newest first, 50 by default and 100 at most', async () => {
    const owner = await registry.register('paged');
    for (const name of ['k0', 'k1', 'k2']) {
      await createOk(owner, name);
      // Distinct creation times, so "newest first" is tested, not the tie-break.
      await new Promise((r) => setTimeout(r, 5));
    }
    const first = await page(owner, '?page_no=1&page_size=2');
    expect(first.items.map((k) => k.name)).toEqual(['k2', 'k1']);
    expect(first.pagination).toEqual({ page_no: 1, page_size: 2, total: 3, total_pages: 2 });
    expect((await page(owner, '?page_no=2&page_size=2')).items.map((k) => k.name)).toEqual(['k0']);
    expect((await page(owner, '?page_no=3&page_size=2')).items).toEqual([]);
    expect((await page(owner)).pagination).toEqual({ page_no: 1, page_size: 50, total: 3, total_pages: 1 });
    for (const [query, param] of [
      ['?page_size=101', 'page_size'],
      ['?page_size=0', 'page_size'],
      ['?page_no=0', 'page_no'],
      ['?page_no=x', 'page_no'],
    ]) {
      const res = await registry.call('GET', `/api/upload/${owner.id}/keys${query}`, owner.auth);
      expect([query, res.statusCode, res.json<Failure>().message]).toEqual([
        query,
        422,
        expect.stringMatching(new RegExp(`^${param}`)),
      ]);
    }
  });

  it('rate-limits key creation per instance: 429 with Retry-After once KEY_CREATES_PER_HOUR were made', async () => {
    const owner = await registry.register('rate');
    for (let i = 0; i < 6; i++) await revoke(owner, (await createOk(owner, `loop ${i}`)).key_id);
    const refused = await create(owner, { name: 'seventh' });
    expect([refused.statusCode, refused.json<Failure>().message]).toEqual([
      429,
      'an instance may create at most 6 keys per hour',
    ]);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(3_500);
    expect(retryAfter).toBeLessThanOrEqual(3_600);
  });

  it('counts revoked keys until they are purged: a create/revoke loop stops at KEYS_STORED_PER_INSTANCE (409)', async () => {
    const owner = await registry.register('loop');
    for (let i = 0; i < 10; i++) {
      if (i === 6) await age(owner);
      await revoke(owner, (await createOk(owner, `loop ${i}`)).key_id);
    }
    await age(owner);
    const refused = await create(owner, { name: 'eleventh' });
    expect([refused.statusCode, refused.json<Failure>().message]).toEqual([
      409,
      expect.stringContaining(
        'at most 10 keys, revoked and expired ones included until they are deleted 30 days',
      ),
    ]);
    expect((await page(owner)).pagination.total).toBe(10);
  });

  it('holds the limits when creations race: 8 at once with room for 3 give 3 keys', async () => {
    const owner = await registry.register('race');
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => create(owner, { name: `race ${i}` })),
    );
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 200, 200, 409, 409, 409, 409, 409]);
    expect((await page(owner)).pagination.total).toBe(3);
  });

  it('purges keys revoked or expired more than KEY_RETENTION_DAYS ago, once however many nodes run it', async () => {
    const owner = await registry.register('purge');
    const old = await createOk(owner, 'revoked 31 days ago');
    const recent = await createOk(owner, 'revoked 29 days ago');
    const expired = await createOk(owner, 'expired 31 days ago');
    await revoke(owner, old.key_id);
    await revoke(owner, recent.key_id);
    const daysAgo = (days: number) => new Date(Date.now() - days * DAY_MS);
    await prisma.accessKey.update({ where: { id: old.key_id }, data: { revokedAt: daysAgo(31) } });
    await prisma.accessKey.update({ where: { id: recent.key_id }, data: { revokedAt: daysAgo(29) } });
    await prisma.accessKey.update({ where: { id: expired.key_id }, data: { expiresAt: daysAgo(31) } });

    const retention = registry.app.get(KeyRetention);
    const before = await prisma.accessKey.count();
    // Two nodes' runs at once: each row is deleted by one of them.
    const deleted = await Promise.all([retention.run(), retention.run()]);
    expect(deleted[0] + deleted[1]).toBe(2);
    expect(await prisma.accessKey.count()).toBe(before - 2);
    expect(await retention.run()).toBe(0);
    expect((await page(owner)).items.map((k) => k.name)).toEqual(['revoked 29 days ago']);
  });

  it('refuses a key whose models take more than 16 KiB as JSON (422 naming models), like a host hello', async () => {
    const owner = await registry.register('models');
    const names = (n: number) =>
      Array.from({ length: n }, (_, i) => `${'m'.repeat(240)}-${String(i).padStart(3, '0')}`);
    const tooMany = await create(owner, { name: 'fat', models: names(70) });
    expect([tooMany.statusCode, tooMany.json<Failure>().message]).toEqual([
      422,
      expect.stringMatching(/^models: models must take at most 16384 bytes as JSON/),
    ]);
    expect((await create(owner, { name: 'fits', models: names(60) })).statusCode).toBe(200);
  });

  it('answers 422 naming the field, not 500, for dates IsDateString accepts but new Date() cannot read', async () => {
    const owner = await registry.register('dates');
    for (const expires of ['2099-W01-1', '20990101', '20990101T000000Z']) {
      const res = await create(owner, { name: 'dated', expires_at: expires });
      expect([expires, res.statusCode, res.json<Failure>().message]).toEqual([
        expires,
        422,
        expect.stringMatching(/^expires_at: expires_at must be an ISO 8601 date/),
      ]);
    }
    for (const [field, value] of [
      ['from', '20990101'],
      ['to', '2099-W01-1'],
    ]) {
      const res = await registry.call('GET', `/api/upload/${owner.id}/usage?${field}=${value}`, owner.auth);
      expect([field, res.statusCode, res.json<Failure>().message]).toEqual([
        field,
        422,
        expect.stringMatching(new RegExp(`^${field}: ${field} must be an ISO 8601 date`)),
      ]);
    }
    expect((await create(owner, { name: 'dated', expires_at: '2099-01-01T00:00:00Z' })).statusCode).toBe(200);
  });

  it("answers 401 for a revoked or expired key of a public instance; another instance's key or an unknown one is ignored", async () => {
    const owner = await registry.register('public');
    const neighbour = await registry.register('neighbour');
    const chat = (key: string) =>
      registry.app.inject({
        method: 'POST',
        url: `/api/chat/${owner.id}/chat/completions`,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
      });
    const status = async (key: string) => {
      const res = await chat(key);
      return [res.statusCode, res.json<{ error: { message: string } }>().error.message];
    };
    // The instance has no host: a chat that gets past the key check is a 503.
    const revoked = await createOk(owner, 'to revoke');
    expect((await status(revoked.key))[0]).toBe(503);
    await revoke(owner, revoked.key_id);
    expect(await status(revoked.key)).toEqual([401, 'this access key was revoked']);

    const expired = await createOk(owner, 'to expire');
    await prisma.accessKey.update({
      where: { id: expired.key_id },
      data: { expiresAt: new Date(Date.now() - 1) },
    });
    expect(await status(expired.key)).toEqual([401, 'this access key has expired']);

    const theirs = await createOk(neighbour, 'theirs');
    expect((await status(theirs.key))[0]).toBe(503);
    expect((await status(`sk-${'x'.repeat(43)}`))[0]).toBe(503);
  });
});
