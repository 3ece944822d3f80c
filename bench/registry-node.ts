/** Registry nodes and host agents started by the benchmark: the built programs, probe preloaded. */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { DIST, TestProcess } from '../test/support/processes';
import { fdLimits, processMemory } from './proc';

const ROOT = path.resolve(path.dirname(DIST.registry), '../../../..');
const PROBE = path.join(__dirname, 'probe.js');

export interface NodeMemory {
  /** VmRSS from /proc/<pid>/status. */
  rss: number;
  /** V8 heap after two full GCs (process.memoryUsage() inside the node). */
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

/**
 * Spawns `node [nodeArgs] script`, through `sh -c 'ulimit -n …'` when the soft open-file limit is
 * below `minFds` and the hard limit allows more (the shell execs node, so the pid stays node's).
 */
export function spawnNodeProcess(
  name: string,
  nodeArgs: string[],
  env: Record<string, string | undefined>,
  minFds = 0,
): TestProcess {
  const limits = fdLimits();
  const args = [...nodeArgs];
  const base = { PATH: process.env.PATH, HOME: process.env.HOME, ...env };
  const options = { cwd: ROOT, env: base, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] as const };
  const child =
    limits.soft < minFds
      ? spawn(
          '/bin/sh',
          [
            '-c',
            'ulimit -n "$1"; shift; exec "$0" "$@"',
            process.execPath,
            String(Math.min(limits.hard, minFds)),
            ...args,
          ],
          { ...options, stdio: [...options.stdio] },
        )
      : spawn(process.execPath, args, { ...options, stdio: [...options.stdio] });
  return new TestProcess(name, child);
}

/** A child with the probe preloaded and an IPC channel to ask it things. */
export class ProbedProcess {
  private nextProbe = 1;

  constructor(
    readonly name: string,
    readonly proc: TestProcess,
  ) {}

  /** Spawns `node --require probe.js script`, waiting for `ready` in its output (or its exit). */
  static async start(
    name: string,
    script: string,
    env: Record<string, string | undefined>,
    ready: RegExp,
    minFds = 0,
  ): Promise<{ proc: TestProcess; line: string }> {
    const proc = spawnNodeProcess(name, ['--require', PROBE, script], env, minFds);
    try {
      // waitFor notices an exit only when output follows it: race the exit too. A first PGlite
      // boot on a 2-core machine busy with other work has taken over 60 s.
      const line = await Promise.race([
        proc.waitFor(ready, 180_000),
        proc.exited.then((code): string => {
          throw new Error(
            `${name} exited (code ${code}) before it was ready:\n${proc.output.slice(-30).join('\n')}`,
          );
        }),
      ]);
      return { proc, line };
    } catch (err) {
      await proc.stop('SIGKILL');
      throw err;
    }
  }

  get pid(): number {
    return this.proc.pid;
  }

  /** Asks the preloaded probe; rejects after `timeoutMs`. */
  probe(
    op: string,
    extra: Record<string, unknown> = {},
    timeoutMs = 60_000,
  ): Promise<Record<string, unknown>> {
    const id = this.nextProbe++;
    const child = this.proc.child;
    return new Promise((resolve, reject) => {
      const onMessage = (msg: { probe?: number; ok?: boolean; error?: string }) => {
        if (msg?.probe !== id) return;
        done();
        if (msg.ok) resolve(msg as Record<string, unknown>);
        else reject(new Error(`${this.name} probe ${op}: ${msg.error}`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name} probe ${op} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        child.off('message', onMessage);
      };
      child.on('message', onMessage);
      child.send({ probe: id, op, ...extra });
    });
  }

  async memory(): Promise<NodeMemory> {
    const inside = (await this.probe('memory')) as unknown as NodeMemory;
    return {
      rss: processMemory(this.pid).rss,
      heapUsed: inside.heapUsed,
      heapTotal: inside.heapTotal,
      external: inside.external,
      arrayBuffers: inside.arrayBuffers,
    };
  }

  stop(): Promise<void> {
    return this.proc.stop('SIGTERM', 10_000);
  }
}

export class RegistryNode extends ProbedProcess {
  private constructor(
    name: string,
    proc: TestProcess,
    readonly url: string,
    readonly nodeId: string,
  ) {
    super(name, proc);
  }

  /** Starts a node on an ephemeral loopback port and waits until it listens. */
  static async startNode(
    name: string,
    env: Record<string, string | undefined>,
    minFds = 0,
  ): Promise<RegistryNode> {
    const { proc, line } = await ProbedProcess.start(
      name,
      DIST.registry,
      { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', REGISTRY_ANNOUNCE_PORT: '1', ...env },
      /"event":"listening"/,
      minFds,
    );
    const { port, nodeId } = JSON.parse(line) as { port: number; nodeId: string };
    return new RegistryNode(name, proc, `http://127.0.0.1:${port}`, nodeId);
  }

  chatUrl(instanceId: string): URL {
    return new URL(`${this.url}/api/chat/${instanceId}`);
  }

  /** Hosts the node says it holds (GET /healthz), NaN if it does not say. */
  async connectedHosts(): Promise<number> {
    const res = await fetch(`${this.url}/healthz`);
    const body = (await res.json()) as { connected_hosts?: unknown };
    return typeof body.connected_hosts === 'number' ? body.connected_hosts : NaN;
  }
}

/** The real host agent (the built program), probe preloaded, default timers. */
export async function startHostAgent(
  name: string,
  opts: {
    registry: string;
    instanceId: string;
    password: string;
    upstream: string;
    concurrency: number;
    /** `--replica`: one of several agents serving the same instance. */
    replica?: string;
  },
): Promise<ProbedProcess> {
  const { proc } = await ProbedProcess.start(
    name,
    DIST.host,
    {
      REGISTRY_URL: opts.registry,
      INSTANCE_ID: opts.instanceId,
      INSTANCE_PASSWORD: opts.password,
      UPSTREAM_URL: opts.upstream,
      HOST_CONCURRENCY: String(opts.concurrency),
      HOST_REPLICA: opts.replica,
    },
    /connected to/,
  );
  // It logs two lines per request: keep draining them, but stop keeping them (stderr is kept).
  proc.child.stdout?.removeAllListeners('data');
  proc.child.stdout?.resume();
  return new ProbedProcess(name, proc);
}
