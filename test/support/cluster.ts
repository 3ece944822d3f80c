import { Redis } from 'ioredis';
import { FakeModel, FakeModelOptions, startFakeModel } from './fake-model-server';
import { createTestDatabase } from './postgres';
import { RunningRegistry, startAgent, startRegistry, TestProcess } from './processes';
import { eventually, instanceDetail, registerInstance, Registered } from './registry-client';

/** The Redis every test shares (found or started by test/jest/services-setup.ts; override with TEST_REDIS_URL). */
export const SHARED_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface ClusterOptions {
  label: string;
  nodes: number;
  env?: Record<string, string>;
  redisUrl?: string;
  /** `REDIS_CLUSTER_NODES` of a private Redis Cluster, instead of a Redis URL. */
  redisClusterNodes?: string;
}

/**
 * Registry nodes in distributed mode (one fresh PostgreSQL database, one Redis, a unique key
 * prefix) plus whatever else a test starts, all cleaned up by `stop()`.
 */
export class TestCluster {
  readonly nodes: RunningRegistry[] = [];
  private readonly extra: TestProcess[] = [];
  private readonly closers: Array<() => Promise<unknown>> = [];

  private constructor(
    readonly env: Record<string, string>,
    readonly prefix: string,
    readonly redisUrl: string,
    private readonly dropDatabase: () => Promise<void>,
    private readonly ownKeysInRedisUrl = true,
  ) {}

  static async start(opts: ClusterOptions): Promise<TestCluster> {
    const db = await createTestDatabase(opts.label);
    const prefix = `fault-${opts.label}-${process.pid}-${Date.now()}`;
    const redisUrl = opts.redisUrl ?? SHARED_REDIS_URL;
    const redisEnv: Record<string, string> = opts.redisClusterNodes
      ? { REDIS_CLUSTER_NODES: opts.redisClusterNodes }
      : { REDIS_URL: redisUrl };
    const env = { DATABASE_URL: db.url, ...redisEnv, REDIS_PREFIX: prefix, ...opts.env };
    // A private Redis Cluster is deleted with its test: only the shared Redis needs its keys removed.
    const cluster = new TestCluster(env, prefix, redisUrl, db.drop, !opts.redisClusterNodes);
    try {
      // The first node applies the migrations; the others find them applied.
      await cluster.addNode('node-a');
      const names = ['node-b', 'node-c', 'node-d'];
      await Promise.all(names.slice(0, opts.nodes - 1).map((name) => cluster.addNode(name)));
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  async addNode(name: string, env: Record<string, string> = {}): Promise<RunningRegistry> {
    const node = await startRegistry({ ...this.env, ...env }, name);
    this.nodes.push(node);
    return node;
  }

  /** Something else to stop with the cluster (agents, fake models, ...). */
  track<T extends TestProcess>(proc: T): T {
    this.extra.push(proc);
    return proc;
  }

  onStop(close: () => Promise<unknown>): void {
    this.closers.push(close);
  }

  /** Stops everything, drops the database and deletes this cluster's keys from Redis. */
  async stop(): Promise<void> {
    await Promise.all(this.extra.map((p) => p.stop('SIGKILL')));
    await Promise.all(this.nodes.map((n) => n.proc.stop('SIGTERM', 3_000)));
    await Promise.all(this.closers.map((close) => close().catch(() => undefined)));
    await this.dropDatabase();
    if (this.ownKeysInRedisUrl) await deleteKeys(this.redisUrl, this.prefix).catch(() => undefined);
  }
}

export interface ClusterWithAgent {
  cluster: TestCluster;
  model: FakeModel;
  /** Registered on node A as 'agent on A'. */
  instance: Registered;
  agent: TestProcess;
}

/**
 * A cluster, an in-process fake model and one instance served by a real agent connected to node
 * A; resolves once node B sees the instance online. The model and the agent stop with the cluster.
 */
export async function startClusterWithAgent(
  clusterOpts: ClusterOptions,
  modelOpts: FakeModelOptions,
  /** `allNodes`: the agent gets every node's URL (it still connects to A first). */
  agentOpts: { env?: Record<string, string>; allNodes?: boolean } = {},
): Promise<ClusterWithAgent> {
  const cluster = await TestCluster.start(clusterOpts);
  try {
    const [nodeA, nodeB] = cluster.nodes;
    const model = await startFakeModel(modelOpts);
    cluster.onStop(() => model.close());
    const instance = await registerInstance(nodeA.url, 'agent on A');
    const agent = cluster.track(
      await startAgent({
        registry: agentOpts.allNodes ? cluster.nodes.map((n) => n.url).join(',') : nodeA.url,
        instanceId: instance.instanceId,
        password: instance.password,
        upstream: model.url,
        env: agentOpts.env,
      }),
    );
    await eventually(async () => (await instanceDetail(nodeB.url, instance)).status === 'online', 2_000);
    return { cluster, model, instance, agent };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

/** A short-lived client: no reconnects, and no 2 s disconnect timer keeping Jest alive. */
function connectOnce(url: string): Redis {
  return new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    disconnectTimeout: 50,
  });
}

/** Removes every key under `prefix:` (the shared Redis outlives the test). */
async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = connectOnce(url);
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Reads one key of the cluster's presence (e.g. `owner:<id>`), for assertions on ownership. */
export async function readKey(url: string, key: string): Promise<string | null> {
  const redis = connectOnce(url);
  try {
    await redis.connect();
    return await redis.get(key);
  } finally {
    redis.disconnect();
  }
}

/** Reads many keys at once (MGET). */
export async function readKeys(url: string, keys: string[]): Promise<Array<string | null>> {
  if (keys.length === 0) return [];
  const redis = connectOnce(url);
  try {
    await redis.connect();
    return await redis.mget(...keys);
  } finally {
    redis.disconnect();
  }
}

/**
 * The owner record (`<nodeId>|<epoch>`) of each replica of an instance, read from presence: the
 * instance's replica hash names them, their owner keys say who holds them.
 */
export async function readReplicaOwners(url: string, prefix: string, instanceId: string): Promise<string[]> {
  const redis = connectOnce(url);
  try {
    await redis.connect();
    const names = await redis.hkeys(`${prefix}:reps:${instanceId}`);
    if (names.length === 0) return [];
    const slots = names.map((name) => (name === '' ? instanceId : `${instanceId}/${name}`));
    const owners = await redis.mget(...slots.map((slot) => `${prefix}:owner:${slot}`));
    return owners.filter((owner): owner is string => owner !== null);
  } finally {
    redis.disconnect();
  }
}
