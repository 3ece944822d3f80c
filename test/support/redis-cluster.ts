import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Cluster } from 'ioredis';
import { TestProcess } from './processes';

const run = promisify(execFile);

/** True when nothing listens on 127.0.0.1:port. */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * Six ports whose cluster bus port (+10000) is free too: the kernel's ephemeral range
 * (above 55535) cannot be used, since port + 10000 would not exist.
 */
async function sparePorts(count: number): Promise<number[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 25_000);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    const free = await Promise.all(ports.flatMap((p) => [isFree(p), isFree(p + 10_000)]));
    if (free.every(Boolean)) return ports;
  }
  throw new Error('no spare ports for a Redis Cluster');
}

export interface ClusterMember {
  port: number;
  proc: TestProcess;
}

/**
 * A private Redis Cluster (3 masters, one replica each) in a temporary folder, for tests of
 * `REDIS_CLUSTER_NODES`. `stop()` kills every process and deletes the folder.
 */
export class RedisClusterServer {
  readonly members: ClusterMember[] = [];
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'mreg-redis-cluster-'));

  private constructor(readonly ports: number[]) {}

  static async start(): Promise<RedisClusterServer> {
    const server = new RedisClusterServer(await sparePorts(6));
    try {
      await Promise.all(server.ports.map((port) => server.startMember(port)));
      await run('redis-cli', [
        '--cluster',
        'create',
        ...server.ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ]);
      await server.waitHealthy();
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  /** `REDIS_CLUSTER_NODES`: every member as a seed. */
  get seeds(): string {
    return this.ports.map((p) => `127.0.0.1:${p}`).join(',');
  }

  private async startMember(port: number): Promise<void> {
    const dir = path.join(this.dir, String(port));
    mkdirSync(dir);
    // Node timeout 2000 (the environment's recipe): a dead master is failed over in ~3-4 s.
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-node-timeout',
        '2000',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const proc = new TestProcess(`redis-cluster-${port}`, child);
    this.members.push({ port, proc });
    await proc.waitFor(/Ready to accept connections/, 10_000);
  }

  /**
   * Resolves when every node reports `cluster_state:ok`, every slot has a master and every
   * replica is in sync (a replica that never synced would not be promoted).
   */
  async waitHealthy(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const ask = (port: number, ...args: string[]) =>
      run('redis-cli', ['-p', String(port), ...args]).then(
        (r) => r.stdout,
        () => '',
      );
    for (;;) {
      const live = this.members.filter((m) => m.proc.running);
      const states = await Promise.all(
        live.map(
          async (m) => (await ask(m.port, 'CLUSTER', 'INFO')) + (await ask(m.port, 'INFO', 'replication')),
        ),
      );
      const ok = (s: string) =>
        s.includes('cluster_state:ok') &&
        s.includes('cluster_slots_ok:16384') &&
        (s.includes('role:master') || s.includes('master_link_status:up'));
      if (states.every(ok)) return;
      if (Date.now() > deadline) throw new Error(`Redis Cluster not healthy after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** The port of the master that currently serves `key`'s hash slot. */
  async masterOf(key: string): Promise<number> {
    const client = this.client();
    try {
      const slot = Number(await client.cluster('KEYSLOT', key));
      const ranges = await client.cluster('SLOTS');
      const master = ranges.find(([start, end]) => slot >= start && slot <= end)?.[2];
      if (!master) throw new Error(`no master for slot ${slot}`);
      return Number(master[1]);
    } finally {
      client.disconnect();
    }
  }

  /** Keys held by one member (a master's replica holds the same). */
  async dbsize(port: number): Promise<number> {
    return Number((await run('redis-cli', ['-p', String(port), 'DBSIZE'])).stdout.trim());
  }

  /** Crashes one member (SIGKILL): its replica takes over after the node timeout. */
  async kill(port: number): Promise<void> {
    const member = this.members.find((m) => m.port === port);
    if (!member) throw new Error(`no cluster member on port ${port}`);
    member.proc.signal('SIGKILL');
    await member.proc.exited;
  }

  /** A client for assertions; the caller disconnects it. */
  client(): Cluster {
    return new Cluster(this.ports.map((port) => ({ host: '127.0.0.1', port })));
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.proc.stop('SIGKILL', 2_000)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
