import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

/** The repository root, whether this file runs from test/support or from dist/test/support. */
const ROOT = (() => {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir))
    if (existsSync(path.join(dir, 'package.json'))) return dir;
  throw new Error('package.json not found');
})();
/** End-to-end tests run the built program, exactly what `npm start` runs (`npm test` builds first). */
export const DIST = {
  registry: path.join(ROOT, 'dist/apps/registry/src/main.js'),
  host: path.join(ROOT, 'dist/apps/host/src/main.js'),
  fakeModel: path.join(ROOT, 'dist/test/support/fake-model-main.js'),
};

/** A child process whose output is kept, so tests can wait for a line and show it when they fail. */
export class TestProcess {
  readonly output: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.trim()) this.output.push(line);
      for (const listener of this.listeners) listener();
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) =>
      child.on('exit', (code) => {
        resolve(code);
        for (const listener of this.listeners) listener();
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first output line (from `fromIndex` on) matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs = 15_000, fromIndex = 0): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const line = this.output.slice(fromIndex).find((l) => pattern.test(l));
        if (line !== undefined) {
          done();
          resolve(line);
        } else if (!this.running) {
          done();
          reject(new Error(`${this.name} exited before printing ${pattern}:\n${this.output.join('\n')}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `${this.name} did not print ${pattern} within ${timeoutMs} ms:\n${this.output.slice(-40).join('\n')}`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export function spawnNode(
  name: string,
  script: string,
  args: string[],
  env: Record<string, string | undefined>,
): TestProcess {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new TestProcess(name, child);
}

export interface RunningRegistry {
  url: string;
  port: number;
  nodeId: string;
  proc: TestProcess;
}

/**
 * Starts a registry node on an ephemeral port and waits until it listens. Without DATABASE_URL or
 * REGISTRY_DATA_DIR its PGlite lives in memory: two embedded nodes must not share a data directory.
 */
export async function startRegistry(
  env: Record<string, string | undefined>,
  name = 'registry',
): Promise<RunningRegistry> {
  const proc = spawnNode(name, DIST.registry, [], {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    REGISTRY_ANNOUNCE_PORT: '1',
    REGISTRY_DATA_DIR: 'memory://',
    ...env,
  });
  // Generous: PGlite's WASM boot and migrations take seconds, many more on a loaded 2-core machine.
  const line = await proc.waitFor(/"event":"listening"/, 45_000).catch((error: Error) => {
    proc.signal('SIGKILL'); // a node that failed to start must not outlive its test
    throw error;
  });
  const { port, nodeId } = JSON.parse(line) as { port: number; nodeId: string };
  return { url: `http://127.0.0.1:${port}`, port, nodeId, proc };
}

/** Starts the real host agent; waits for its first connection unless told not to. */
export async function startAgent(
  opts: {
    registry: string;
    instanceId: string;
    password: string;
    upstream: string;
    env?: Record<string, string>;
  },
  waitConnected = true,
): Promise<TestProcess> {
  const proc = spawnNode('agent', DIST.host, [], {
    REGISTRY_URL: opts.registry,
    INSTANCE_ID: opts.instanceId,
    INSTANCE_PASSWORD: opts.password,
    UPSTREAM_URL: opts.upstream,
    HOST_PING_MS: '1000',
    HOST_BACKOFF_BASE_MS: '100',
    HOST_BACKOFF_CAP_MS: '1000',
    ...opts.env,
  });
  if (waitConnected) await proc.waitFor(/connected to/, 15_000);
  return proc;
}

/** Starts the fake OpenAI-compatible model server as its own process. */
export async function startFakeModelProcess(
  args: string[] = [],
): Promise<{ url: string; proc: TestProcess }> {
  const proc = spawnNode('fake-model', DIST.fakeModel, ['--port', '0', ...args], {});
  const line = await proc.waitFor(/"url"/, 15_000);
  return { url: (JSON.parse(line) as { url: string }).url, proc };
}
