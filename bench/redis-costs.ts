/**
 * What one cross-node chat, one token batch and one presence refresh cost Redis, and what a chat
 * costs the two nodes' CPU: the per-operation figures docs/scaling.md extrapolates from.
 *
 *   node dist/bench/redis-costs.js [--chats=300] [--idle-ms=30000] [--cluster]
 *
 * Starts its own redis-server (or, with --cluster, its own Redis Cluster of 3 masters + 3 replicas,
 * counters summed over its members) so no other client's commands are counted, two distributed nodes,
 * a fake model and one agent on node A; resets Redis' counters (CONFIG RESETSTAT), runs the chats
 * through node B one at a time, then reads INFO commandstats / stats and the nodes' CPU time.
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { TestCluster } from '../test/support/cluster';
import { startFakeModel } from '../test/support/fake-model-server';
import { startAgent } from '../test/support/processes';
import { RedisClusterServer } from '../test/support/redis-cluster';
import { RedisServer } from '../test/support/redis-server';
import { eventually, instanceDetail, registerInstance } from '../test/support/registry-client';
import { readSse } from '../test/support/sse';

const arg = (name: string, fallback: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);

/** utime + stime of a process, in ms (clock ticks of 10 ms). */
const cpuMs = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

/** Commands, bytes and CPU seconds since the last CONFIG RESETSTAT, summed over `members`. */
async function counters(members: Redis[]) {
  const calls: Record<string, number> = {};
  let bytesIn = 0;
  let bytesOut = 0;
  let cpuSeconds = 0;
  for (const redis of members) {
    const info = await redis.info('everything');
    for (const m of info.matchAll(/^cmdstat_(\S+):calls=(\d+)/gm))
      calls[m[1]] = (calls[m[1]] ?? 0) + Number(m[2]);
    const num = (key: string) => Number(new RegExp(`^${key}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
    bytesIn += num('total_net_input_bytes');
    bytesOut += num('total_net_output_bytes');
    cpuSeconds += num('used_cpu_user') + num('used_cpu_sys');
  }
  return { calls, bytesIn, bytesOut, cpuSeconds };
}

async function main() {
  const chats = arg('chats', 300);
  const idleMs = arg('idle-ms', 30_000);
  const server = process.argv.includes('--cluster')
    ? await RedisClusterServer.start()
    : await RedisServer.start();
  const members =
    server instanceof RedisClusterServer
      ? server.ports.map((port) => new Redis({ port }))
      : [new Redis(server.url)];
  const cluster = await TestCluster.start(
    server instanceof RedisClusterServer
      ? { label: 'costs', nodes: 2, redisClusterNodes: server.seeds }
      : { label: 'costs', nodes: 2, redisUrl: server.url },
  );
  try {
    const [nodeA, nodeB] = cluster.nodes;
    const burst = await startFakeModel({ chunks: 50, record: false });
    const paced = await startFakeModel({ chunks: 20, delayMs: 10, record: false });
    cluster.onStop(() => Promise.all([burst.close(), paced.close()]));
    const instances = await Promise.all([
      registerInstance(nodeA.url, 'costs burst'),
      registerInstance(nodeA.url, 'costs paced'),
    ]);
    for (const [instance, model] of [
      [instances[0], burst],
      [instances[1], paced],
    ] as const) {
      cluster.track(
        await startAgent({
          registry: nodeA.url,
          instanceId: instance.instanceId,
          password: instance.password,
          upstream: model.url,
        }),
      );
      await eventually(async () => (await instanceDetail(nodeB.url, instance)).status === 'online', 10_000);
    }
    const body = { messages: [{ role: 'user', content: 'hello' }] };
    const run = async (instanceId: string, n: number) => {
      for (let i = 0; i < n; i++) {
        const result = await readSse(`${nodeB.url}/api/chat/${instanceId}`, body);
        if (!result.done) throw new Error(`chat ${i} did not complete`);
      }
    };
    const measure = async (label: string, work: () => Promise<unknown>, per: number) => {
      await Promise.all(members.map((m) => m.config('RESETSTAT')));
      const redisCpu = (await counters(members)).cpuSeconds;
      const cpu = [cpuMs(nodeA.proc.pid), cpuMs(nodeB.proc.pid)];
      const started = Date.now();
      await work();
      const elapsed = Date.now() - started;
      const c = await counters(members);
      const cpuA = cpuMs(nodeA.proc.pid) - cpu[0];
      const cpuB = cpuMs(nodeB.proc.pid) - cpu[1];
      const perOp = Object.fromEntries(
        Object.entries(c.calls)
          .filter(([name]) => !/^(config|info)/.test(name))
          .map(([name, n]) => [name, Number((n / per).toFixed(3))]),
      );
      console.log(
        JSON.stringify({
          label,
          per,
          elapsedMs: elapsed,
          commandsPerOp: perOp,
          bytesInPerOp: Math.round(c.bytesIn / per),
          bytesOutPerOp: Math.round(c.bytesOut / per),
          cpuMsPerOp: {
            holderNode: Number((cpuA / per).toFixed(3)),
            callerNode: Number((cpuB / per).toFixed(3)),
            redis: Number((((c.cpuSeconds - redisCpu) * 1000) / per).toFixed(3)),
          },
        }),
      );
    };
    await run(instances[0].instanceId, 20); // warm-up
    await measure(
      'cross-node chat, 50 chunks written at once',
      () => run(instances[0].instanceId, chats),
      chats,
    );
    // 20 at once: the nodes' idle background (timers, pings) weighs little per chat.
    await measure(
      'cross-node chat, 20 chunks 10 ms apart, 20 chats at a time',
      () => Promise.all(Array.from({ length: 20 }, () => run(instances[1].instanceId, chats / 20))),
      chats,
    );
    await measure(
      'cross-node chat, 20 chunks 10 ms apart',
      () => run(instances[1].instanceId, chats / 5),
      chats / 5,
    );
    // Two hosts held by node A, nothing else running: the background of two nodes plus the refreshes.
    await measure(
      'idle second, 2 hosts on 2 nodes',
      () => new Promise((r) => setTimeout(r, idleMs)),
      idleMs / 1000,
    );
  } finally {
    for (const m of members) m.disconnect();
    await cluster.stop();
    await server.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
