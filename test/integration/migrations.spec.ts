// Prisma migrations applied with the WASM schema engine, on PostgreSQL and on PGlite, plus the drift check
// that fails when schema.prisma changes without a migration (fix: `npm run db:migration:create -- <name>`).
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { createAdapterFactory, type DatabaseAdapter } from '../../apps/registry/src/database/adapter-factory';
import { PrismaClient } from '../../apps/registry/src/database/generated/client';
import { applyMigrations, diffMigrationsToSchema } from '../../apps/registry/src/database/migrator';
import { createTestDatabase } from '../support/postgres';

const root = path.join(__dirname, '..', '..');
const paths = {
  migrationsDir: path.join(root, 'prisma/migrations'),
  schemaPath: path.join(root, 'prisma/schema.prisma'),
};
const committed = readdirSync(paths.migrationsDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

/** Inserts an instance through a generated PrismaClient and reads it back. */
async function insertAndRead(adapter: DatabaseAdapter, id: string): Promise<void> {
  const prisma = new PrismaClient({ adapter: adapter.factory });
  try {
    await prisma.instance.create({
      data: { id, uploadName: 'model', passwordHash: new Uint8Array([1, 2, 3]), config: { is_cot: true } },
    });
    const row = await prisma.instance.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ id, uploadName: 'model', config: { is_cot: true }, deletedAt: null });
    expect([...row.passwordHash]).toEqual([1, 2, 3]);
  } finally {
    await prisma.$disconnect();
  }
}

describe('drift check', () => {
  let memory: DatabaseAdapter;
  let tmp: string;
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(tmpdir(), 'mreg-migrations-'));
    // The migrations are replayed in in-memory PGlite shadow databases: no server needed.
    memory = await createAdapterFactory({ dataDir: 'memory://' });
  });
  afterAll(async () => {
    await memory.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('schema.prisma matches prisma/migrations (else run npm run db:migration:create -- <name>)', async () => {
    expect(await diffMigrationsToSchema(memory.factory, paths)).toBe('');
  });

  it('reports a schema change that has no migration', async () => {
    const schemaPath = path.join(tmp, 'schema.prisma');
    const schema = readFileSync(paths.schemaPath, 'utf8').replace(
      'model Instance {',
      'model Instance {\n  driftProbe String?',
    );
    writeFileSync(schemaPath, schema);
    expect(await diffMigrationsToSchema(memory.factory, { ...paths, schemaPath })).toContain(
      'ADD COLUMN     "driftProbe" TEXT',
    );
  });
});

describe('PostgreSQL', () => {
  const dbs: { url: string; drop(): Promise<void> }[] = [];
  afterAll(async () => {
    for (const db of dbs) await db.drop();
  });
  async function freshDatabase(): Promise<{ url: string; adapter: DatabaseAdapter }> {
    const db = await createTestDatabase('migrations');
    dbs.push(db);
    return { url: db.url, adapter: await createAdapterFactory({ databaseUrl: db.url, dataDir: 'unused' }) };
  }

  it('applies the migrations once, as prisma migrate deploy would, then a PrismaClient works', async () => {
    const { url, adapter } = await freshDatabase();
    expect(await applyMigrations(adapter.factory, paths)).toEqual({ applied: committed });
    expect(await applyMigrations(adapter.factory, paths)).toEqual({ applied: [] });

    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const tables = await client.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
      );
      expect(tables.rows.map((row) => row.table_name)).toEqual([
        '_prisma_migrations',
        'access_keys',
        'instance_holders',
        'instances',
        'roles',
        'usage_minutes',
      ]);
      // Same bookkeeping as the CLI: checksum = SHA-256 of migration.sql, finished, not rolled back.
      const history = await client.query(
        'SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY migration_name',
      );
      expect(history.rows).toEqual(
        committed.map((name) => ({
          migration_name: name,
          checksum: createHash('sha256')
            .update(readFileSync(path.join(paths.migrationsDir, name, 'migration.sql')))
            .digest('hex'),
          finished_at: expect.any(Date),
          rolled_back_at: null,
        })),
      );
    } finally {
      await client.end();
    }
    await insertAndRead(adapter, 'pg-instance');
  });

  it('two migrators starting together apply each migration exactly once', async () => {
    const { url, adapter } = await freshDatabase();
    const other = await createAdapterFactory({ databaseUrl: url, dataDir: 'unused' });
    const results = await Promise.all([
      applyMigrations(adapter.factory, paths),
      applyMigrations(other.factory, paths),
    ]);
    expect(results.flatMap((result) => result.applied).sort()).toEqual(committed);
  });
});

describe('PGlite', () => {
  let tmp: string;
  let dataDir: string;
  beforeAll(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'mreg-migrations-'));
    dataDir = path.join(tmp, 'nested', 'data'); // createAdapterFactory must create it
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('applies the migrations once and keeps the data across a close and reopen', async () => {
    const first = await createAdapterFactory({ dataDir });
    try {
      expect(await applyMigrations(first.factory, paths)).toEqual({ applied: committed });
      expect(await applyMigrations(first.factory, paths)).toEqual({ applied: [] });
      await insertAndRead(first, 'pglite-instance');
    } finally {
      await first.close();
    }

    const reopened = await createAdapterFactory({ dataDir });
    const prisma = new PrismaClient({ adapter: reopened.factory });
    try {
      expect(await applyMigrations(reopened.factory, paths)).toEqual({ applied: [] });
      expect(await prisma.instance.findUnique({ where: { id: 'pglite-instance' } })).toMatchObject({
        uploadName: 'model',
      });
    } finally {
      await prisma.$disconnect();
      await reopened.close();
    }
  });
});
