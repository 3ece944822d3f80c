import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { MigrationList, SchemaEngine, SchemaFilter } from '@prisma/schema-engine-wasm';
import { createSchemaEngine } from './schema-engine';

export interface MigrationOptions {
  /** Folder of `<timestamp>_<name>/migration.sql` plus migration_lock.toml (prisma/migrations). */
  migrationsDir: string;
  /** prisma/schema.prisma */
  schemaPath: string;
  log?: (msg: string) => void;
}

const NO_FILTER: SchemaFilter = { externalTables: [], externalEnums: [] };
const LOCKFILE = 'migration_lock.toml';

/** Reads the migrations folder exactly as the Prisma CLI does (listMigrations in prisma/build/cli.js). */
export async function listMigrations(migrationsDir: string): Promise<MigrationList> {
  const baseDir = path.resolve(migrationsDir);
  const lockfile = {
    path: LOCKFILE,
    content: await readFile(path.join(baseDir, LOCKFILE), 'utf8').catch(() => null),
  };
  const entries = await readdir(baseDir, { withFileTypes: true }).catch(() => []);
  const migrationDirectories = await Promise.all(
    entries
      .filter((entry) => entry.isDirectory())
      .map(async (entry) => ({
        path: entry.name,
        migrationFile: {
          path: 'migration.sql',
          content: await readFile(path.join(baseDir, entry.name, 'migration.sql'), 'utf8').then(
            (value) => ({ tag: 'ok' as const, value }),
            (error: Error) => ({ tag: 'error' as const, value: error.message }),
          ),
        },
      })),
  );
  migrationDirectories.sort((a, b) => a.path.localeCompare(b.path));
  return { baseDir, lockfile, migrationDirectories, shadowDbInitScript: '' };
}

/**
 * Runs `work` with a schema engine on `factory`, then frees the engine and disposes every adapter
 * it opened: the WASM engine never disposes them itself, so pg pools would otherwise stay open.
 */
async function withEngine<T>(
  factory: SqlMigrationAwareDriverAdapterFactory,
  opts: MigrationOptions,
  work: (engine: SchemaEngine, schema: { path: string; content: string }) => Promise<T>,
): Promise<T> {
  const opened: SqlDriverAdapter[] = [];
  const track = (adapter: SqlDriverAdapter): SqlDriverAdapter => {
    // Once only: the engine may dispose a shadow database itself, and a pg pool cannot end twice.
    const dispose = adapter.dispose.bind(adapter);
    let disposed: Promise<void> | undefined;
    adapter.dispose = () => (disposed ??= dispose());
    opened.push(adapter);
    return adapter;
  };
  const tracked: SqlMigrationAwareDriverAdapterFactory = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => track(await factory.connect()),
    connectToShadowDb: async () => track(await factory.connectToShadowDb()),
  };
  const schema = { path: opts.schemaPath, content: await readFile(opts.schemaPath, 'utf8') };
  let engine: SchemaEngine | undefined;
  try {
    engine = await createSchemaEngine(tracked, [[schema.path, schema.content]], engineLogger(opts.log));
    return await work(engine, schema);
  } finally {
    engine?.free();
    await Promise.allSettled(opened.map((adapter) => adapter.dispose()));
  }
}

/** Forwards the engine's warnings and errors (JSON tracing lines) as plain text; its INFO chatter is dropped. */
function engineLogger(log?: (msg: string) => void): (line: string) => void {
  return (line) => {
    if (!log) return;
    try {
      const event = JSON.parse(line) as { level?: string; fields?: { message?: string } };
      if (event.level !== 'WARN' && event.level !== 'ERROR') return;
      log(`schema-engine: ${event.fields?.message ?? line}`);
    } catch {
      log(`schema-engine: ${line}`);
    }
  };
}

/**
 * Applies the unapplied migrations of `migrationsDir`, as `prisma migrate deploy` does (same
 * `_prisma_migrations` table and checksums). Idempotent. On PostgreSQL the engine itself takes
 * `pg_advisory_lock(72707369)` (waiting up to 10 s, then error P1002) on one of its pooled sessions;
 * the lock lasts until that session closes, i.e. until withEngine disposes the adapter right after.
 */
export async function applyMigrations(
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  opts: MigrationOptions,
): Promise<{ applied: string[] }> {
  const migrationsList = await listMigrations(opts.migrationsDir);
  return withEngine(adapterFactory, opts, async (engine) => {
    const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList, filters: NO_FILTER });
    for (const name of appliedMigrationNames) opts.log?.(`applied migration ${name}`);
    return { applied: appliedMigrationNames };
  });
}

/**
 * SQL that would bring a database built from the migrations up to schema.prisma; '' when in sync.
 * Replays the migrations in a shadow database (`connectToShadowDb`): an in-memory PGlite needs no server.
 */
export async function diffMigrationsToSchema(
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  opts: MigrationOptions,
): Promise<string> {
  const migrationsList = await listMigrations(opts.migrationsDir);
  return withEngine(adapterFactory, opts, async (engine, schema) => {
    const { exitCode, stdout } = await engine.diff({
      from: { tag: 'migrations', ...migrationsList },
      to: { tag: 'schemaDatamodel', files: [schema] },
      script: true,
      exitCode: true, // 2 = there is a difference
      filters: NO_FILTER,
    });
    return exitCode === 2 ? (stdout ?? '') : '';
  });
}

/**
 * Writes `<timestamp>_<name>/migration.sql` for the changes between the migrations and schema.prisma,
 * and migration_lock.toml, as `prisma migrate dev --create-only` does. Returns null when in sync.
 * (The WASM engine's own createMigration cannot reach a shadow database, so we name the folder as it would.)
 */
export async function createMigration(
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  opts: MigrationOptions & { name: string },
): Promise<{ name: string; file: string } | null> {
  const baseDir = path.resolve(opts.migrationsDir);
  // Written first: the engine reads the provider from it to replay the migrations. Same text as the CLI's.
  await mkdir(baseDir, { recursive: true });
  await writeFile(
    path.join(baseDir, LOCKFILE),
    '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "postgresql"\n',
    'utf8',
  );
  const script = await diffMigrationsToSchema(adapterFactory, opts);
  if (!script) return null;
  const name = `${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}_${opts.name}`; // UTC yyyyMMddHHmmss
  const dir = path.join(baseDir, name);
  if (existsSync(dir)) throw new Error(`The migration directory already exists at ${dir}`);
  await mkdir(dir);
  const file = path.join(dir, 'migration.sql');
  await writeFile(file, script, 'utf8');
  return { name, file };
}
