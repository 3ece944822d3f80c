import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { lockDataDir } from './data-dir-lock';

/** A driver adapter factory for PrismaClient and the migrator, plus how to release what it opened. */
export interface DatabaseAdapter {
  kind: 'postgresql' | 'pglite';
  /** Pass to `new PrismaClient({ adapter: factory })` and to `applyMigrations(factory, ...)`. */
  factory: SqlMigrationAwareDriverAdapterFactory;
  /** Closes the PGlite instance (call after PrismaClient.$disconnect); no-op for PostgreSQL, whose pools close with their adapters. */
  close(): Promise<void>;
}

export interface DatabaseConfig {
  /** PostgreSQL URL; absent = embedded PGlite. */
  databaseUrl?: string;
  /** PGlite data directory (created if missing, locked while open); `memory://` keeps it in memory. */
  dataDir: string;
  /** This node's HTTP port, written into the data directory's lock so a refused second process can name it. */
  port?: number;
  /** Hears about a stale lock of a process that died, taken over. */
  log?: (msg: string) => void;
}

/** Lets executeScript run the whole script in one round trip and surface its failure. */
function runScriptsWith<T extends SqlDriverAdapter>(
  adapter: T,
  run: (script: string) => Promise<unknown>,
): T {
  // Both upstream adapters have this (protected) converter to a typed database error for the engine.
  const upstream = adapter as unknown as { onError?(error: unknown): never };
  adapter.executeScript = async (script) => {
    try {
      await run(script);
    } catch (error) {
      if (typeof upstream.onError === 'function') upstream.onError(error);
      throw error;
    }
  };
  return adapter;
}

type PgAdapter = Awaited<ReturnType<PrismaPg['connect']>>;

/**
 * PostgreSQL through @prisma/adapter-pg, with two upstream (7.10.1) flaws fixed:
 * - executeScript splits scripts on ";" and runs each statement on its own; like `prisma migrate
 *   deploy`, we send the script as one simple-protocol query, so a migration is atomic and may hold
 *   ";" inside strings or function bodies;
 * - its shadow database pool is `{ connectionString, database }`, where pg lets the URL's database win:
 *   a diff would replay every migration into the live database. Ours is an in-memory PGlite instead
 *   (which also avoids the engine failing to read PostgreSQL's `"char"` catalog columns through pg).
 */
class PostgresAdapterFactory extends PrismaPg {
  override async connect(): Promise<PgAdapter> {
    const adapter = await super.connect();
    const pool = adapter.underlyingDriver();
    // A query without parameters uses the simple protocol, which accepts several statements.
    return runScriptsWith(adapter, (script) => pool.query(script));
  }
  override async connectToShadowDb(): Promise<PgAdapter> {
    // The engine only needs the SqlDriverAdapter surface of the shadow database.
    return (await connectToMemoryShadowDb()) as PgAdapter;
  }
}

/** A throwaway in-memory PGlite database, closed when the engine disposes it. */
async function connectToMemoryShadowDb(): Promise<SqlDriverAdapter> {
  const shadow = new PGlite();
  const adapter = runScriptsWith(await new PrismaPGlite(shadow).connect(), (script) => shadow.exec(script));
  const dispose = adapter.dispose.bind(adapter);
  adapter.dispose = async () => {
    await dispose();
    if (!shadow.closed) await shadow.close();
  };
  return adapter;
}

/**
 * PGlite through pglite-prisma-adapter, with two upstream (0.7.2) flaws fixed: executeScript does not
 * await PGlite.exec (a failed migration would be recorded as applied and crash the process with an
 * unhandled rejection), and every shadow database is a new in-memory PGlite that is never closed.
 */
class PGliteAdapterFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = 'postgres' as const;
  readonly adapterName: string;
  private readonly upstream: PrismaPGlite;

  constructor(private readonly db: PGlite) {
    this.upstream = new PrismaPGlite(db);
    this.adapterName = this.upstream.adapterName;
  }

  async connect(): Promise<SqlDriverAdapter> {
    return runScriptsWith(await this.upstream.connect(), (script) => this.db.exec(script));
  }

  connectToShadowDb(): Promise<SqlDriverAdapter> {
    return connectToMemoryShadowDb();
  }
}

/** Builds the adapter for PostgreSQL when `databaseUrl` is set, else for PGlite in `dataDir`. */
export async function createAdapterFactory(config: DatabaseConfig): Promise<DatabaseAdapter> {
  if (config.databaseUrl) {
    return {
      kind: 'postgresql',
      factory: new PostgresAdapterFactory({ connectionString: config.databaseUrl }),
      close: async () => {},
    };
  }
  if (config.dataDir.startsWith('memory://')) {
    const db = await PGlite.create(config.dataDir);
    return { kind: 'pglite', factory: new PGliteAdapterFactory(db), close: () => closePGlite(db) };
  }
  const dataDir = path.resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const lock = lockDataDir(dataDir, { port: config.port, log: config.log });
  let db: PGlite;
  try {
    // Waiting here reports a broken data directory at startup, not at the first query.
    db = await PGlite.create(dataDir);
  } catch (error) {
    lock.release();
    throw new Error(unopenableMessage(dataDir, error), { cause: error });
  }
  return {
    kind: 'pglite',
    factory: new PGliteAdapterFactory(db),
    close: async () => {
      try {
        await closePGlite(db);
      } finally {
        lock.release();
      }
    },
  };
}

async function closePGlite(db: PGlite): Promise<void> {
  if (!db.closed) await db.close();
}

/** PGlite says only `RuntimeError: Aborted()` for a damaged directory: say what it means and what to do. */
function unopenableMessage(dataDir: string, error: unknown): string {
  const cause = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return (
    `the PGlite data directory ${dataDir} cannot be opened (${cause}). It is damaged (a crash or a ` +
    `full disk while writing, two processes at once, an incomplete copy) or not a PGlite data ` +
    `directory of this version. Restore it from a backup, or move it aside (mv "${dataDir}" ` +
    `"${dataDir}.broken") to start with an empty database, where every instance must register again.`
  );
}
