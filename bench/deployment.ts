/**
 * Everything a run needs, on loopback: two fake models (one answering at once, one paced), an
 * embedded single node (PGlite), two distributed nodes (PostgreSQL + Redis), two more on a private
 * Redis Cluster (3 masters + 3 replicas, `REDIS_CLUSTER_NODES`), the real host
 * agent for each (node, model) pair, and the floor references (`floor/`: a plain reverse proxy,
 * a minimal WebSocket tunnel server and its agent per model, a Redis pub/sub echo process and the
 * connections that ping it). Every start registers its undo step with `cleanup`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { createKey, updateInstance } from '../test/support/access-keys';
import { createTestDatabase } from '../test/support/postgres';
import { spawnNode, startFakeModelProcess, TestProcess } from '../test/support/processes';
import { RedisClusterServer } from '../test/support/redis-cluster';
import { eventually, instanceDetail, registerInstance, Registered } from '../test/support/registry-client';
import type { Cleanup } from './cleanup';
import { RedisRoundTrip } from './redis-round-trip';
import { ProbedProcess, RegistryNode, startHostAgent } from './registry-node';
import type { Settings } from './settings';

export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Host concurrency the agents announce; the registry allows at most 1024 per host. */
const BURST_AGENT_CONCURRENCY = 256;
const PACED_AGENT_CONCURRENCY = 1024;

/**
 * Settings of every node the benchmark starts. Every caller and host is 127.0.0.1, so per-IP limits
 * meant for strangers (e.g. host sockets per IP) would refuse the benchmark: lifted. Nothing is in
 * flight when the run stops its nodes, so their graceful drain is kept short.
 */
const BENCH_NODE_ENV = {
  WS_MAX_SOCKETS_PER_IP: '0',
  HOST_CONNECTS_PER_IP_PER_MIN: '0',
  CHAT_RATE_PER_IP_PER_MIN: '0',
  CHAT_RATE_PER_INSTANCE_PER_MIN: '0',
  CHAT_MAX_IN_FLIGHT_PER_IP: '0',
  REGISTER_PER_IP_PER_MIN: '0',
  DRAIN_GRACE_MS: '500',
  // Empty unless a run injects a slowdown to show the CI gate failing (probe.ts); nodes only, floors untouched.
  BENCH_PROBE_SLOW_WRITE_US: process.env.BENCH_INJECT_SLOW_WRITE_US ?? '',
};

export interface FakeModelProcess {
  url: string;
  proc: TestProcess;
}

/** A floor reference process listening at `url` (no path). */
export interface FloorProcess {
  url: string;
  proc: TestProcess;
}

export interface Deployment {
  models: { burst: FakeModelProcess; paced: FakeModelProcess };
  /** Reference relays of the simplest shape, one route per model (`/burst/…`, `/paced/…`). */
  floor: {
    proxy: FloorProcess;
    tunnel: FloorProcess;
    /** The tunnel's agent per model. */
    agents: { burst: TestProcess; paced: TestProcess };
    /** Republishes `<redisPrefix>:floor:ping` on `…:pong`; `redis` publishes and times the echo. */
    redisEcho: TestProcess;
    redis: RedisRoundTrip;
  };
  embedded: RegistryNode;
  /** Holds the host sockets (and, later, the idle hosts). */
  nodeA: RegistryNode;
  nodeB: RegistryNode;
  /** Two nodes on a Redis Cluster: the hosts on A, cross-node callers on B. */
  /** Null when the run leaves the Redis Cluster out (settings.cluster: the CI gate). */
  cluster: { nodeA: RegistryNode; nodeB: RegistryNode; redis: RedisClusterServer } | null;
  instances: {
    embedded: { burst: Registered; paced: Registered };
    distributed: { burst: Registered; paced: Registered };
    cluster: { burst: Registered; paced: Registered } | null;
    /** A private instance on node A (burst model, its own agent) and an access key without limits. */
    private: { instance: Registered; key: string };
    /** The private instance's twin: public, no key, its own agent (what the key check is compared with). */
    twin: Registered;
  };
  agents: Record<
    | 'embeddedBurst'
    | 'embeddedPaced'
    | 'distributedBurst'
    | 'distributedPaced'
    | 'distributedPrivate'
    | 'distributedTwin',
    ProbedProcess
  > & { clusterBurst?: ProbedProcess; clusterPaced?: ProbedProcess };
  redisPrefix: string;
  databaseUrl: string;
}

const FLOOR_RELAY = path.join(__dirname, 'floor/floor-relay-main.js');
const FLOOR_AGENT = path.join(__dirname, 'floor/floor-agent-main.js');
const FLOOR_REDIS_ECHO = path.join(__dirname, 'floor/redis-echo-main.js');

/** Starts a floor process and waits for its ready line; stops it if it never comes. */
async function startFloor(name: string, script: string, args: string[], ready: RegExp) {
  const proc = spawnNode(name, script, args, {});
  try {
    return { proc, line: await proc.waitFor(ready, 15_000) };
  } catch (err) {
    await proc.stop('SIGKILL');
    throw err;
  }
}

async function deleteRedisKeys(prefix: string): Promise<number> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  let deleted = 0;
  try {
    let cursor = '0';
    for (let i = 0; i < 100_000; i++) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) deleted += await redis.unlink(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
  } finally {
    redis.disconnect();
  }
  return deleted;
}

export async function deploy(
  settings: Settings,
  cleanup: Cleanup,
  log: (line: string) => void,
): Promise<Deployment> {
  const redisPrefix = `mreg-bench-${process.pid}-${Date.now().toString(36)}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'mreg-bench-pglite-'));
  cleanup.add('remove the PGlite directory', () => rmSync(dataDir, { recursive: true, force: true }));
  cleanup.add('delete the Redis keys', () => deleteRedisKeys(redisPrefix));
  const maxHosts = Math.max(0, ...settings.scale.hosts);

  const startModel = async (args: string[]) => {
    const model = await startFakeModelProcess(args);
    cleanup.add('stop a fake model', () => model.proc.stop(), 'models');
    return model;
  };
  const startNode = async (name: string, env: Record<string, string>, minFds = 0) => {
    const node = await RegistryNode.startNode(name, { ...BENCH_NODE_ENV, ...env }, minFds);
    cleanup.add(`stop ${name}`, () => node.stop(), 'nodes');
    log(`  ${name} listening at ${node.url}`);
    return node;
  };
  const agent = async (
    name: string,
    registry: RegistryNode,
    instance: Registered,
    upstream: string,
    concurrency: number,
  ) => {
    const proc = await startHostAgent(name, {
      registry: registry.url,
      instanceId: instance.instanceId,
      password: instance.password,
      upstream,
      concurrency,
    });
    cleanup.add(`stop ${name}`, () => proc.stop(), 'agents');
    log(`  ${name} connected`);
    return proc;
  };
  const models = Promise.all([
    startModel(['--chunks', String(settings.burstChunks), '--delay-ms', '0']),
    startModel(['--chunks', String(settings.paced.chunks), '--delay-ms', String(settings.paced.delayMs)]),
  ]);
  const floorSide = (async () => {
    const [burst, paced] = await models;
    const server = async (mode: 'proxy' | 'tunnel', args: string[] = []) => {
      const { proc, line } = await startFloor(
        `floor-${mode}`,
        FLOOR_RELAY,
        ['--mode', mode, ...args],
        /"url"/,
      );
      cleanup.add(`stop the floor ${mode}`, () => proc.stop(), 'floor');
      return { url: (JSON.parse(line) as { url: string }).url, proc };
    };
    const [proxy, tunnel] = await Promise.all([
      server('proxy', ['--upstream', `burst=${burst.url},paced=${paced.url}`]),
      server('tunnel'),
    ]);
    const floorAgent = async (kind: 'burst' | 'paced', upstream: string) => {
      const relay = `${tunnel.url.replace(/^http/, 'ws')}/agent/${kind}`;
      const { proc } = await startFloor(
        `floor-agent-${kind}`,
        FLOOR_AGENT,
        ['--relay', relay, '--upstream', upstream],
        /"connected"/,
      );
      cleanup.add(`stop the floor agent (${kind})`, () => proc.stop(), 'floor');
      return proc;
    };
    const redisFloor = async () => {
      const prefix = `${redisPrefix}:floor`;
      const { proc } = await startFloor(
        'floor-redis-echo',
        FLOOR_REDIS_ECHO,
        ['--redis', REDIS_URL, '--prefix', prefix],
        /"ready"/,
      );
      cleanup.add('stop the floor Redis echo', () => proc.stop(), 'floor');
      const redis = await RedisRoundTrip.connect(REDIS_URL, prefix);
      cleanup.add('close the floor Redis connections', () => redis.close());
      return { redisEcho: proc, redis };
    };
    const [agentBurst, agentPaced, redis] = await Promise.all([
      floorAgent('burst', burst.url),
      floorAgent('paced', paced.url),
      redisFloor(),
    ]);
    log(`  floor references: proxy at ${proxy.url}, tunnel at ${tunnel.url}, Redis echo ready`);
    return { proxy, tunnel, agents: { burst: agentBurst, paced: agentPaced }, ...redis };
  })();
  /** Registers the burst and paced instances on `node` and connects an agent for each. */
  const serve = async (node: RegistryNode, tag: string) => {
    const [[burst, paced], instances] = await Promise.all([
      models,
      Promise.all([registerInstance(node.url, 'bench burst'), registerInstance(node.url, 'bench paced')]),
    ]);
    const agents = await Promise.all([
      agent(`agent-${tag}-burst`, node, instances[0], burst.url, BURST_AGENT_CONCURRENCY),
      agent(`agent-${tag}-paced`, node, instances[1], paced.url, PACED_AGENT_CONCURRENCY),
    ]);
    return { burst: instances[0], paced: instances[1], agents };
  };
  /** A private instance with one key (no limits: the path measures the key check alone). */
  const servePrivate = async (node: RegistryNode) => {
    const [[burst], instance] = await Promise.all([models, registerInstance(node.url, 'bench private')]);
    await updateInstance(node.url, instance, { visibility: 'private' });
    const { key } = await createKey(node.url, instance, { name: 'bench' });
    const proc = await agent('agent-a-private', node, instance, burst.url, BURST_AGENT_CONCURRENCY);
    return { instance, key, agent: proc };
  };
  /** The same without visibility and key: a public instance of the same shape, its own agent. */
  const serveTwin = async (node: RegistryNode) => {
    const [[burst], instance] = await Promise.all([models, registerInstance(node.url, 'bench twin')]);
    const proc = await agent('agent-a-twin', node, instance, burst.url, BURST_AGENT_CONCURRENCY);
    return { instance, agent: proc };
  };
  // Each side gets its agents as soon as its nodes listen (PGlite's first boot is the slowest).
  const embeddedSide = (async () => {
    const node = await startNode('embedded', { REGISTRY_DATA_DIR: dataDir });
    return { node, ...(await serve(node, 'embedded')) };
  })();
  const distributedSide = (async () => {
    const db = await createTestDatabase('bench');
    cleanup.add('drop the benchmark database', () => db.drop());
    const env = { DATABASE_URL: db.url, REDIS_URL, REDIS_PREFIX: redisPrefix };
    const [nodeA, nodeB] = await Promise.all([
      startNode('node-a', env, maxHosts + 1024),
      startNode('node-b', env),
    ]);
    const served = await serve(nodeA, 'a');
    const [privateOne, twin] = await Promise.all([servePrivate(nodeA), serveTwin(nodeA)]);
    // The other node must see them online (presence in Redis) before cross-node calls.
    for (const instance of [served.burst, served.paced])
      await eventually(async () => (await instanceDetail(nodeB.url, instance)).status === 'online', 10_000);
    return { nodeA, nodeB, databaseUrl: db.url, ...served, privateOne, twin };
  })();
  const clusterSide = (async () => {
    if (!settings.cluster) return null;
    const redis = await RedisClusterServer.start();
    cleanup.add('stop the Redis Cluster', () => redis.stop());
    const db = await createTestDatabase('bench_cluster');
    cleanup.add('drop the Redis Cluster benchmark database', () => db.drop());
    const env = { DATABASE_URL: db.url, REDIS_CLUSTER_NODES: redis.seeds, REDIS_PREFIX: redisPrefix };
    const [nodeA, nodeB] = await Promise.all([startNode('cluster-a', env), startNode('cluster-b', env)]);
    const served = await serve(nodeA, 'cluster-a');
    for (const instance of [served.burst, served.paced])
      await eventually(async () => (await instanceDetail(nodeB.url, instance)).status === 'online', 10_000);
    return { nodeA, nodeB, redis, ...served };
  })();
  const [[burst, paced], floor, e, d, c] = await Promise.all([
    models,
    floorSide,
    embeddedSide,
    distributedSide,
    clusterSide,
  ]);

  return {
    models: { burst, paced },
    floor,
    embedded: e.node,
    nodeA: d.nodeA,
    nodeB: d.nodeB,
    cluster: c && { nodeA: c.nodeA, nodeB: c.nodeB, redis: c.redis },
    instances: {
      embedded: { burst: e.burst, paced: e.paced },
      distributed: { burst: d.burst, paced: d.paced },
      cluster: c && { burst: c.burst, paced: c.paced },
      private: { instance: d.privateOne.instance, key: d.privateOne.key },
      twin: d.twin.instance,
    },
    agents: {
      embeddedBurst: e.agents[0],
      embeddedPaced: e.agents[1],
      distributedBurst: d.agents[0],
      distributedPaced: d.agents[1],
      distributedPrivate: d.privateOne.agent,
      distributedTwin: d.twin.agent,
      ...(c && { clusterBurst: c.agents[0], clusterPaced: c.agents[1] }),
    },
    redisPrefix,
    databaseUrl: d.databaseUrl,
  };
}
