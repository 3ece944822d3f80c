import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { TestProcess } from './processes';

/** A free TCP port on 127.0.0.1 (asked from the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A private `redis-server` on its own port, for tests that stop or restart Redis: the shared
 * server on 6379 is never touched. Nothing is persisted, so a restart loses every key, like a
 * production Redis without persistence.
 */
export class RedisServer {
  private proc: TestProcess | null = null;
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'mreg-redis-'));

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.proc?.running ?? false;
  }

  /** Starts the server (again) on the same port and waits until it accepts connections. */
  async start(): Promise<void> {
    if (this.running) return;
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.proc = new TestProcess(`redis-${this.port}`, child);
    await this.proc.waitFor(/Ready to accept connections/, 10_000);
  }

  /** Kills the server the hard way (a crash, not a shutdown) and waits for the process to go. */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    proc.signal('SIGKILL');
    await proc.exited;
  }

  /** Crash and start again: every key is gone afterwards. Returns how long Redis was down. */
  async restart(): Promise<number> {
    const down = Date.now();
    await this.kill();
    await this.start();
    return Date.now() - down;
  }

  async stop(): Promise<void> {
    await this.proc?.stop('SIGTERM', 2_000);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
