/** The benchmark's side of host-swarm.ts: spawns it (with enough file descriptors) and drives it. */
import * as path from 'node:path';
import type { TestProcess } from '../test/support/processes';
import { spawnNodeProcess } from './registry-node';

export interface SwarmConnectResult {
  opened: number;
  failed: number;
  errors: Record<string, number>;
  ms: number;
}

export interface SwarmStats {
  open: number;
  unexpectedCloses: number;
  heartbeats: number;
  acks: number;
}

export class HostSwarm {
  private constructor(readonly proc: TestProcess) {}

  /** Starts the swarm child, asking for `capacity` + headroom file descriptors. */
  static async start(capacity: number): Promise<HostSwarm> {
    const proc = spawnNodeProcess('host-swarm', [path.join(__dirname, 'host-swarm.js')], {}, capacity + 256);
    const swarm = new HostSwarm(proc);
    try {
      const ready = await swarm.ask<{ fdLimit: number }>({ cmd: 'ready' }, 'ready', 15_000);
      swarm.fdLimit = ready.fdLimit;
    } catch (err) {
      await proc.stop('SIGKILL');
      throw err;
    }
    return swarm;
  }

  /** The open-file limit the child got. */
  fdLimit = NaN;

  get pid(): number {
    return this.proc.pid;
  }

  private ask<T>(msg: object, event: string, timeoutMs: number): Promise<T> {
    const child = this.proc.child;
    return new Promise((resolve, reject) => {
      const onMessage = (reply: { event?: string }) => {
        if (reply?.event !== event) return;
        done();
        resolve(reply as T);
      };
      const onExit = () => {
        done();
        reject(new Error(`host swarm exited:\n${this.proc.output.slice(-20).join('\n')}`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`host swarm did not answer ${event} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send(msg);
    });
  }

  connect(
    registry: string,
    hosts: { instanceId: string; password: string }[],
    parallel: number,
    timeoutMs: number,
  ): Promise<SwarmConnectResult> {
    return this.ask(
      {
        cmd: 'connect',
        registry,
        hosts: hosts.map((h) => ({ id: h.instanceId, password: h.password })),
        parallel,
        timeoutMs: 15_000,
      },
      'connected',
      timeoutMs,
    );
  }

  stats(): Promise<SwarmStats> {
    return this.ask({ cmd: 'stats' }, 'stats', 10_000);
  }

  async close(): Promise<void> {
    if (!this.proc.running) return;
    await this.ask({ cmd: 'close' }, 'closed', 20_000).catch(() => undefined);
    await this.proc.stop('SIGKILL', 1_000);
  }
}
