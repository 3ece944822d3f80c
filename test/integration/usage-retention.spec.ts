import { PrismaService } from '../../apps/registry/src/database/prisma.service';
import { UsageRecorder } from '../../apps/registry/src/usage/usage-recorder';
import { UsageRetention } from '../../apps/registry/src/usage/usage-retention';
import { DatabaseMode, InProcessRegistry, startRegistryApp } from '../support/registry-app';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

describe.each<DatabaseMode>(['pglite', 'postgresql'])('usage retention on %s', (mode) => {
  let registry: InProcessRegistry;

  beforeAll(async () => {
    registry = await startRegistryApp(mode, 'usageret', { USAGE_FLUSH_MS: '60000' });
  });
  afterAll(async () => {
    await registry?.close();
  });

  it('keeps USAGE_RETENTION_DAYS (400) of usage minutes and deletes older ones, once however many nodes run it', async () => {
    const owner = await registry.register('usage');
    const recorder = registry.app.get(UsageRecorder);
    const prisma = registry.app.get(PrismaService);
    const now = Date.now();
    const chat = {
      instanceId: owner.id,
      keyId: null,
      endpoint: 'chat' as const,
      failed: false,
      promptTokens: 1,
      completionTokens: 1,
      firstChunkMs: 5,
    };
    // 12,000 minutes just past the retention (more than two delete batches), and some inside it.
    const expired = 12_000;
    const start = now - 400 * DAY_MS - (expired + 1) * MINUTE_MS;
    for (let i = 0; i < expired; i++) recorder.record(chat, start + i * MINUTE_MS);
    for (const daysAgo of [399, 30, 0]) recorder.record(chat, now - daysAgo * DAY_MS);
    await recorder.flush();
    const rows = () => prisma.usageMinute.count({ where: { instanceId: owner.id } });
    expect(await rows()).toBe(expired + 3);

    const retention = registry.app.get(UsageRetention);
    const deleted = await Promise.all([retention.run(now), retention.run(now)]);
    expect(deleted[0] + deleted[1]).toBe(expired);
    expect(await rows()).toBe(3);
    expect(await retention.run(now)).toBe(0);

    const kept = await registry.call(
      'GET',
      `/api/upload/${owner.id}/usage?granularity=day&from=${new Date(now - 401 * DAY_MS).toISOString()}&to=${new Date(now + MINUTE_MS).toISOString()}`,
      owner.auth,
    );
    expect(kept.json<{ data: { items: Array<{ requests: number }> } }>().data.items).toHaveLength(3);
  });
});
