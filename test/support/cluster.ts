import { Redis } from 'ioredis';
import { FakeModel, FakeModelOptions, startFakeModel } from './fake-model-server';
import { createTestDatabase } from './postgres';
import { RunningRegistry, startAgent, startFakeModelProcess, startRegistry, TestProcess } from './processes';
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

/** How a test starts a real agent: `cluster.agent(instance, model, options)`. */
export interface AgentOptions {
  /** The node it dials (node A by default). */
  node?: RunningRegistry;
  /** Every node's URL, A first (it fails over between them). */
  allNodes?: boolean;
  /** `HOST_REPLICA`: its replica's name. */
  replica?: string;
  env?: Record<string, string>;
  /** Resolve once it connected (the default), or at once. */
  waitConnected?: boolean;
}

/**
 * Registry nodes in distributed mode (one fresh PostgreSQL database, one Redis, a unique key
 * prefix), or one embedded node (`TestCluster.embedded`), plus the models and agents a test
 * starts through it, all cleaned up by `stop()`.
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

  /** One node in embedded mode (its PGlite in memory, presence in memory, no Redis). */
  static async embedded(env: Record<string, string> = {}, name = 'registry'): Promise<TestCluster> {
    const cluster = new TestCluster(env, '', '', async () => undefined, false);
    await cluster.addNode(name);
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

  /** A fake model in this process, closed with the cluster. */
  async model(opts: FakeModelOptions = {}): Promise<FakeModel> {
    const model = await startFakeModel(opts);
    this.onStop(() => model.close());
    return model;
  }

  /** The fake model as a process of its own (`fake-model-main` arguments), stopped with the cluster. */
  async modelProcess(args: string[] = []): Promise<{ url: string; proc: TestProcess }> {
    const model = await startFakeModelProcess(args);
    this.track(model.proc);
    return model;
  }

  /** Registers an instance through `node` (node A by default). */
  register(name?: string, node = this.nodes[0]): Promise<Registered> {
    return registerInstance(node.url, name);
  }

  /** A real agent serving `instance` with `upstream` (a model or its URL), stopped with the cluster. */
  async agent(
    instance: Registered,
    upstream: FakeModel | string,
    opts: AgentOptions = {},
  ): Promise<TestProcess> {
    const registry = opts.allNodes
      ? this.nodes.map((n) => n.url).join(',')
      : (opts.node ?? this.nodes[0]).url;
    const agent = await startAgent(
      {
        registry,
        instanceId: instance.instanceId,
        password: instance.password,
        upstream: typeof upstream === 'string' ? upstream : upstream.url,
        env: { ...(opts.replica !== undefined && { HOST_REPLICA: opts.replica }), ...opts.env },
      },
      opts.waitConnected ?? true,
    );
    return this.track(agent);
  }

  /** Resolves once the instance's detail says `online` through each node of `via` (every node by default). */
  async waitOnline(
    instance: Registered,
    { via = this.nodes, withinMs = 2_000 }: { via?: RunningRegistry[]; withinMs?: number } = {},
  ): Promise<void> {
    for (const node of via)
      await eventually(async () => (await instanceDetail(node.url, instance)).status === 'online', withinMs);
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
  agentOpts: Pick<AgentOptions, 'env' | 'allNodes'> = {},
): Promise<ClusterWithAgent> {
  const cluster = await TestCluster.start(clusterOpts);
  try {
    const model = await cluster.model(modelOpts);
    const instance = await cluster.register('agent on A');
    const agent = await cluster.agent(instance, model, agentOpts);
    await cluster.waitOnline(instance, { via: [cluster.nodes[1]] });
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
