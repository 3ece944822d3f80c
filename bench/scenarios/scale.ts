/**
 * Connection scale and cost independence on distributed node A:
 * 1. concurrency-1 overhead with 10 registered instances;
 * 2. register many more through the REST API (timed), overhead again;
 * 3. hold growing numbers of idle hosts (host-swarm.ts): connect time, RSS and heap of the node
 *    per host, the node's CPU while they idle; overhead again with all of them connected.
 */
import type { Registered } from '../../test/support/registry-client';
import { CpuMeter, fdLimits, Load, LoadMeter, machineBusyCores } from '../proc';
import { registerMany } from '../register';
import type { NodeMemory } from '../registry-node';
import { round } from '../stats';
import { HostSwarm } from '../swarm';
import { latencyAtConcurrency1, PathLatency } from './latency';
import type { Scenario } from './scenario';

export interface CostPoint {
  label: string;
  instances: number;
  connectedHosts: number;
  paths: PathLatency[];
  /** Cores busy meanwhile: whole machine, this run, everything else. */
  load: Load;
}

export interface ScaleStep {
  hosts: number;
  /** Time until the swarm had every socket open and the node counted them all, ms. */
  connectMs: number;
  /** Time the swarm needed to open its sockets (the node counts them a moment later), ms. */
  swarmOpenMs: number;
  failed: number;
  errors: Record<string, number>;
  memory: NodeMemory;
  rssPerHostKB: number;
  heapPerHostKB: number;
  /** Node A's CPU while the hosts idle (1 = one core). */
  idleCpu: number;
  /** Node A's CPU while the hosts of this step connected. */
  connectCpu: number;
  unexpectedCloses: number;
}

export interface ScaleResult {
  registration: { instances: number; ms: number; perSecond: number; parallel: number; via: string };
  fdLimits: { node: number; swarm: number };
  baseline: { memory: NodeMemory; idleCpu: number };
  steps: ScaleStep[];
  skipped: string[];
  cost: CostPoint[];
}

const KB = 1024;

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function scaleAndCost(s: Scenario): Promise<ScaleResult> {
  const { settings, deployment } = s;
  const { nodeA, nodeB } = deployment;
  const { cost } = settings;
  const maxHosts = Math.max(...settings.scale.hosts);
  /**
   * Lets everything settle so each point starts from a quiet state: full GCs in the nodes and the
   * agent, a pause, then up to 20 s until the machine is idle apart from this run's idle processes
   * (after 10,000 registrations PostgreSQL may still be busy, e.g. autovacuum).
   */
  const settle = async () => {
    await Promise.all([nodeA, nodeB, deployment.agents.distributedBurst].map((p) => p.memory()));
    await sleep(settings.scale.settleMs);
    const deadline = performance.now() + (settings.mode === 'full' ? 20_000 : 1_000);
    while (performance.now() < deadline && (await machineBusyCores(500)) > 0.15);
  };
  const costRun = async () => {
    await settle();
    const meter = new LoadMeter();
    const paths = await latencyAtConcurrency1(s, ['direct', 'same', 'cross'], cost.warmup, cost.requests);
    return { paths, load: meter.read() };
  };
  const points: CostPoint[] = [];

  // 1. Ten instances (the two the agents serve and eight more).
  await registerMany(nodeB.url, 8, 8, 'bench filler', 60_000);
  s.log('  concurrency 1 with 10 instances');
  points.push({ label: '10 instances', instances: 10, connectedHosts: 2, ...(await costRun()) });

  // 2. Many more, through the REST API (half on each node, as a load balancer would).
  s.log(`  registering ${maxHosts} instances over REST`);
  const parallel = settings.scale.registerParallel;
  const started = performance.now();
  const halves = await Promise.all([
    registerMany(nodeA.url, Math.ceil(maxHosts / 2), Math.ceil(parallel / 2), 'bench idle host', 600_000),
    registerMany(nodeB.url, Math.floor(maxHosts / 2), Math.ceil(parallel / 2), 'bench idle host', 600_000),
  ]);
  const registrationMs = performance.now() - started;
  const hosts: Registered[] = halves.flatMap((h) => h.instances);
  const registration = {
    instances: maxHosts,
    ms: round(registrationMs, 0),
    perSecond: round((maxHosts / registrationMs) * 1000, 0),
    parallel,
    via: 'REST POST /api/upload/register, split over both nodes',
  };
  const total = 10 + maxHosts;
  s.log(`  concurrency 1 with ${total} instances`);
  points.push({ label: `${total} instances`, instances: total, connectedHosts: 2, ...(await costRun()) });

  // 3. Idle hosts on node A.
  const swarm = await HostSwarm.start(maxHosts);
  const result: ScaleResult = {
    registration,
    fdLimits: { node: fdLimits(nodeA.pid).soft, swarm: swarm.fdLimit },
    baseline: { memory: await nodeA.memory(), idleCpu: NaN },
    steps: [],
    skipped: [],
    cost: points,
  };
  try {
    const idleCpu = async () => {
      const meter = new CpuMeter({ node: nodeA.pid });
      await sleep(settings.scale.idleWindowMs);
      return round(meter.read().node, 3);
    };
    result.baseline.idleCpu = await idleCpu();
    const baseHosts = await nodeA.connectedHosts();
    let connected = 0;
    /** Hosts handed to the swarm so far (a failed one is not retried: its slot is not reused). */
    let offset = 0;
    for (const target of settings.scale.hosts) {
      const headroom = 200;
      if (target + headroom > result.fdLimits.node || target + headroom > result.fdLimits.swarm) {
        result.skipped.push(
          `${target} hosts: open-file limit too low (node ${result.fdLimits.node}, swarm ${result.fdLimits.swarm})`,
        );
        continue;
      }
      s.log(`  connecting idle hosts up to ${target}`);
      const stepStart = performance.now();
      const connectMeter = new CpuMeter({ node: nodeA.pid });
      const opened = await swarm.connect(
        nodeA.url,
        hosts.slice(offset, target),
        settings.scale.connectParallel,
        300_000,
      );
      const counted = await waitUntil(
        async () => (await nodeA.connectedHosts()) >= baseHosts + connected + opened.opened,
        60_000,
      );
      const connectMs = performance.now() - stepStart;
      offset = target;
      const connectCpu = round(connectMeter.read().node, 2);
      connected += opened.opened;
      if (!counted) result.skipped.push(`${target} hosts: the node did not count every socket within 60 s`);
      await sleep(settings.scale.settleMs);
      const memory = await nodeA.memory();
      const cpu = await idleCpu();
      const stats = await swarm.stats();
      result.steps.push({
        hosts: connected,
        connectMs: round(connectMs, 0),
        swarmOpenMs: round(opened.ms, 0),
        failed: opened.failed,
        errors: opened.errors,
        memory,
        rssPerHostKB: round((memory.rss - result.baseline.memory.rss) / connected / KB, 1),
        heapPerHostKB: round((memory.heapUsed - result.baseline.memory.heapUsed) / connected / KB, 1),
        idleCpu: cpu,
        connectCpu,
        unexpectedCloses: stats.unexpectedCloses,
      });
    }
    s.log(`  concurrency 1 with ${total} instances and ${connected} idle hosts connected`);
    points.push({
      label: `${total} instances, ${connected} idle hosts`,
      instances: total,
      connectedHosts: connected + 2,
      ...(await costRun()),
    });
  } finally {
    await swarm.close();
  }
  return result;
}
