/**
 * What the public and operators' reads of "what is online" cost at scale: `GET /api/upload/list`,
 * `GET /api/upload/count`, `/metrics` and `/api/admin/cluster` with N instances online.
 *
 *   node dist/bench/online-reads.js [--online=10000,100000] [--calls=50] [--cache-ms=1000]
 *
 * Starts its own redis-server (so only this run's commands are counted), a fresh PostgreSQL
 * database and two distributed nodes, seeds N registered public instances and marks them online
 * as held by a third, phantom node (`seedOnline`, `startPhantomNode`: no sockets are opened),
 * then calls each read on node B and reports, per call:
 * status codes, latency p50, Redis CPU (INFO used_cpu_*, minus the idle background measured over
 * the same time) and Redis commands, and node B's own CPU. `--cache-ms=0` turns the nodes'
 * shared answers off (DIRECTORY_CACHE_MS), so every call pays its database query: the cost of a
 * read nobody else made in the last second (a stranger varying page numbers).
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { TestCluster } from '../test/support/cluster';
import { RedisServer } from '../test/support/redis-server';
import { seedOnline, startPhantomNode } from '../test/support/seed-online';
import { percentile } from '@app/common';

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;

/** utime + stime of a process, in ms (clock ticks of 10 ms). */
const cpuMs = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

async function redisCounters(redis: Redis) {
  const info = await redis.info('everything');
  let calls = 0;
  for (const m of info.matchAll(/^cmdstat_(\S+):calls=(\d+)/gm))
    if (!/^(config|info)/.test(m[1])) calls += Number(m[2]);
  const num = (key: string) => Number(new RegExp(`^${key}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return { calls, cpuMs: (num('used_cpu_user') + num('used_cpu_sys')) * 1000 };
}

interface ReadFigures {
  read: string;
  online: number;
  calls: number;
  statuses: Record<string, number>;
  answer: unknown;
  p50Ms: number;
  redisCpuMsPerCall: number;
  redisCommandsPerCall: number;
  nodeCpuMsPerCall: number;
}

async function main() {
  const onlineCounts = arg('online', '10000,100000').split(',').map(Number);
  const calls = Number(arg('calls', '50'));
  const server = await RedisServer.start();
  const redis = new Redis(server.url);
  const cluster = await TestCluster.start({
    label: 'reads',
    nodes: 2,
    redisUrl: server.url,
    env: { DIRECTORY_CACHE_MS: arg('cache-ms', '1000') },
  });
  const results: ReadFigures[] = [];
  try {
    const nodeB = cluster.nodes[1];
    const db = new Client({ connectionString: cluster.env.DATABASE_URL });
    await db.connect();
    // The seeded hosts are "held" by a phantom node (alive, but holding no sockets to resync).
    const phantom = await startPhantomNode(server.url, cluster.prefix);
    cluster.onStop(() => phantom.stop());
    let seeded = 0;
    for (const online of onlineCounts) {
      await seedOnline({ db, nodeId: phantom.nodeId, from: seeded, to: online });
      seeded = online;
      const reads: Array<[string, string, (body: unknown) => unknown]> = [
        [
          'list ?status=online (page 1 of 20)',
          '/api/upload/list?page_no=1&page_size=20&status=online',
          total,
        ],
        ['list (no filter, page 50)', '/api/upload/list?page_no=50&page_size=20', total],
        ['count ?status=online', '/api/upload/count?status=online', (b) => (b as CountBody).data?.count],
        ['count ?status=offline', '/api/upload/count?status=offline', (b) => (b as CountBody).data?.count],
        ['/metrics', '/metrics', gauge],
        [
          '/api/admin/cluster',
          '/api/admin/cluster',
          (b) => (b as { online_instances?: number }).online_instances,
        ],
      ];
      for (const [read, path, answerOf] of reads) {
        // Idle background over the same time, to subtract (refreshes, liveness checks, stats).
        const idleStart = await redisCounters(redis);
        const idleFrom = Date.now();
        await new Promise((r) => setTimeout(r, 2_000));
        const idle = await redisCounters(redis);
        const idleRate = {
          cpu: (idle.cpuMs - idleStart.cpuMs) / (Date.now() - idleFrom),
          calls: (idle.calls - idleStart.calls) / (Date.now() - idleFrom),
        };
        const statuses: Record<string, number> = {};
        const latencies: number[] = [];
        let answer: unknown;
        const before = await redisCounters(redis);
        const cpuBefore = cpuMs(nodeB.proc.pid);
        const started = Date.now();
        for (let i = 0; i < calls; i++) {
          const t0 = performance.now();
          const res = await fetch(`${nodeB.url}${path}`);
          const text = await res.text();
          latencies.push(performance.now() - t0);
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          if (res.ok) answer = answerOf(path === '/metrics' ? text : JSON.parse(text));
        }
        const elapsed = Date.now() - started;
        const after = await redisCounters(redis);
        results.push({
          read,
          online,
          calls,
          statuses,
          answer,
          p50Ms: round(percentile(latencies, 50)),
          redisCpuMsPerCall: round(Math.max(0, after.cpuMs - before.cpuMs - idleRate.cpu * elapsed) / calls),
          redisCommandsPerCall: round(
            Math.max(0, after.calls - before.calls - idleRate.calls * elapsed) / calls,
          ),
          nodeCpuMsPerCall: round((cpuMs(nodeB.proc.pid) - cpuBefore) / calls),
        });
        console.log(JSON.stringify(results[results.length - 1]));
      }
    }
    await db.end();
  } finally {
    redis.disconnect();
    await cluster.stop();
    await server.stop();
  }
}

interface CountBody {
  data?: { count?: number };
}
const total = (b: unknown) => (b as { data?: { pagination?: { total?: number } } }).data?.pagination?.total;
const gauge = (text: unknown) => /^registry_online_instances (\d+)/m.exec(String(text))?.[1];
const round = (n: number) => Math.round(n * 100) / 100;

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
