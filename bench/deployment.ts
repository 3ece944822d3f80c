/**
 * Everything a run needs, on loopback: two fake models (one answering at once, one paced), an
 * embedded single node (PGlite), two distributed nodes (PostgreSQL + Redis), and the real host
 * agent for each (node, model) pair. Every start registers its undo step with `cleanup`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { createTestDatabase } from '../test/support/postgres';
import { startFakeModelProcess, TestProcess } from '../test/support/processes';
import { eventually, instanceDetail, registerInstance, Registered } from '../test/support/registry-client';
import type { Cleanup } from './cleanup';
import { ProbedProcess, RegistryNode, startHostAgent } from './registry-node';
import type { Settings } from './settings';

export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Host concurrency the agents announce; the registry allows at most 1024 per host. */
const BURST_AGENT_CONCURRENCY = 256;
const PACED_AGENT_CONCURRENCY = 1024;

export interface FakeModelProcess {
  url: string;
  proc: TestProcess;
}

export interface Deployment {
  models: { burst: FakeModelProcess; paced: FakeModelProcess };
  embedded: RegistryNode;
  /** Holds the host sockets (and, later, the idle hosts). */
  nodeA: RegistryNode;
  nodeB: RegistryNode;
  instances: {
    embedded: { burst: Registered; paced: Registered };
    distributed: { burst: Registered; paced: Registered };
  };
  agents: Record<'embeddedBurst' | 'embeddedPaced' | 'distributedBurst' | 'distributedPaced', ProbedProcess>;
  redisPrefix: string;
  databaseUrl: string;
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
    cleanup.add('stop a fake model', () => model.proc.stop());
    return model;
  };
  const startNode = async (name: string, env: Record<string, string>, minFds = 0) => {
    const node = await RegistryNode.startNode(name, env, minFds);
    cleanup.add(`stop ${name}`, () => node.stop());
    log(`  ${name} listening at ${node.url}`);
    return node;
  };
  const distributed = async () => {
    const db = await createTestDatabase('bench');
    cleanup.add('drop the benchmark database', () => db.drop());
    const env = { DATABASE_URL: db.url, REDIS_URL, REDIS_PREFIX: redisPrefix };
    const [nodeA, nodeB] = await Promise.all([
      startNode('node-a', env, maxHosts + 1024),
      startNode('node-b', env),
    ]);
    return { nodeA, nodeB, databaseUrl: db.url };
  };

  const [burst, paced, embedded, cluster] = await Promise.all([
    startModel(['--chunks', String(settings.burstChunks), '--delay-ms', '0']),
    startModel(['--chunks', String(settings.paced.chunks), '--delay-ms', String(settings.paced.delayMs)]),
    startNode('embedded', { REGISTRY_DATA_DIR: dataDir }),
    distributed(),
  ]);
  const { nodeA, nodeB } = cluster;

  const [eBurst, ePaced, dBurst, dPaced] = await Promise.all([
    registerInstance(embedded.url, 'bench burst'),
    registerInstance(embedded.url, 'bench paced'),
    registerInstance(nodeA.url, 'bench burst'),
    registerInstance(nodeA.url, 'bench paced'),
  ]);
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
    cleanup.add(`stop ${name}`, () => proc.stop());
    log(`  ${name} connected`);
    return proc;
  };
  const [embeddedBurst, embeddedPaced, distributedBurst, distributedPaced] = await Promise.all([
    agent('agent-embedded-burst', embedded, eBurst, burst.url, BURST_AGENT_CONCURRENCY),
    agent('agent-embedded-paced', embedded, ePaced, paced.url, PACED_AGENT_CONCURRENCY),
    agent('agent-a-burst', nodeA, dBurst, burst.url, BURST_AGENT_CONCURRENCY),
    agent('agent-a-paced', nodeA, dPaced, paced.url, PACED_AGENT_CONCURRENCY),
  ]);
  // The other node must see them online (presence in Redis) before cross-node calls.
  for (const instance of [dBurst, dPaced])
    await eventually(async () => (await instanceDetail(nodeB.url, instance)).status === 'online', 10_000);

  return {
    models: { burst, paced },
    embedded,
    nodeA,
    nodeB,
    instances: { embedded: { burst: eBurst, paced: ePaced }, distributed: { burst: dBurst, paced: dPaced } },
    agents: { embeddedBurst, embeddedPaced, distributedBurst, distributedPaced },
    redisPrefix,
    databaseUrl: cluster.databaseUrl,
  };
}
