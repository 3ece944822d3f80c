/**
 * `npm run db:migrate` (after `npm run build`): applies prisma/migrations to the configured database,
 * like `prisma migrate deploy` but offline. DATABASE_URL selects PostgreSQL; otherwise PGlite in
 * REGISTRY_DATA_DIR (default .data/pglite).
 */
import * as path from 'node:path';
import { loadConfig } from '../config/app-config';
import { createAdapterFactory } from './adapter-factory';
import { applyMigrations } from './migrator';
import { findPrismaDir } from './prisma-paths';

async function main(): Promise<void> {
  // The node's own reading of DATABASE_URL and REGISTRY_DATA_DIR (`memory://` is not a path).
  const { databaseUrl, dataDir } = loadConfig();
  const prismaDir = findPrismaDir();
  const db = await createAdapterFactory({ databaseUrl, dataDir });
  try {
    console.log(
      `Applying migrations to ${databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${dataDir}`}`,
    );
    const { applied } = await applyMigrations(db.factory, {
      migrationsDir: path.join(prismaDir, 'migrations'),
      schemaPath: path.join(prismaDir, 'schema.prisma'),
      log: (msg) => console.log(msg),
    });
    console.log(
      applied.length ? `${applied.length} migration(s) applied.` : 'No pending migrations to apply.',
    );
  } finally {
    await db.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
