/**
 * Replicas (issue #13): one instance served by R agents (`HOST_REPLICA=r<i>`, `HOST_CONCURRENCY=1`),
 * each in front of its own paced fake model that answers one chat at a time, the others waiting in
 * arrival order (`--max-concurrent 1`). One model completes at most 1000 / (chunks × delay) chats/s,
 * so R replicas at most R times that: the ideal. A closed loop of `callersPerReplica` × R callers
 * for `measureMs` (after `warmupMs`): completed chats/s, total time p50/p95, failures, and how many
 * chats each replica's model completed. Set-ups: a baseline straight to one model, R replicas on
 * node A, and `split` replicas half on node A and half on node B (callers on A, then on both).
 */
import { startFakeModelProcess } from '../../test/support/processes';
import { eventually, instanceDetail, registerInstance, Registered } from '../../test/support/registry-client';
import { SseClient, StreamResult, Target } from '../http-client';
import type { FakeModelProcess } from '../deployment';
import { closedLoop, Failures, failuresOf, RunOptions } from '../load';
import { CpuMeter } from '../proc';
import { ProbedProcess, RegistryNode, startHostAgent } from '../registry-node';
import { round, roundSummary, summarize, Summary } from '../stats';
import type { Scenario } from './scenario';

type NodeName = 'A' | 'B';

/** Where the agents connect (r1 first), and the callers of each run with those agents. */
interface Setup {
  placement: NodeName[];
  callersOn: NodeName[][];
}

export interface ReplicaRun {
  /** Node of each replica's agent (r1 first); empty for the baseline straight to one model. */
  placement: NodeName[];
  /** Nodes the callers call, split evenly; `direct`: the model itself, no registry. */
  callersOn: NodeName[] | 'direct';
  replicas: number;
  callers: number;
  /** Completed (successful) chats per second. */
  requestsPerSecond: number;
  /** replicas × 1000 / (chunks × delay): the models answering back to back, nothing lost between answers. */
  idealPerSecond: number;
  /** requestsPerSecond / idealPerSecond. */
  efficiency: number;
  /** Request to end of the answer, ms (includes the wait for a free replica). */
  total: Summary;
  ttft: Summary;
  failures: Failures;
  /** Chats each replica's model completed while measuring (r1 first). */
  servedPerReplica: number[];
  /** Replicas the caller nodes' instance detail listed before the run (fewest of them); null: no such list. */
  listedReplicas: number | null;
  /** Agents still running after the run (one that was replaced, refused or crashed has exited). */
  agentsRunning: number;
  /** Cores used by the registry nodes while measuring. */
  cpu: Record<string, number>;
  measuredMs: number;
}

export interface ReplicasResult {
  chunks: number;
  delayMs: number;
  /** What one model needs per answer, chunks × delay, ms. */
  answerMs: number;
  runs: ReplicaRun[];
}

interface ModelStats {
  completed: number;
}

async function modelStats(url: string): Promise<ModelStats> {
  const res = await fetch(url.replace(/\/v1$/, '/_stats'));
  if (res.status !== 200) throw new Error(`fake model stats answered ${res.status}`);
  return (await res.json()) as ModelStats;
}

/** `n` node names, the first half (rounded up) A, the rest B. */
const split = (n: number): NodeName[] =>
  Array.from({ length: n }, (_, i) => (i < Math.ceil(n / 2) ? 'A' : 'B'));

type Figures = Omit<ReplicaRun, 'placement' | 'callersOn' | 'replicas' | 'listedReplicas' | 'agentsRunning'>;

/**
 * Warm-up, then the measured closed loop, `callers` split evenly over `targets`; `models` are the
 * ones serving (their completed chats are counted, and they make the ideal).
 */
async function measure(
  s: Scenario,
  targets: Target[],
  callers: number,
  models: FakeModelProcess[],
  pids: Record<string, number>,
  opts: RunOptions,
): Promise<Figures> {
  const cfg = s.settings.replicas;
  const client = new SseClient();
  try {
    const loops = (ms: number) =>
      Promise.all(
        targets.map((target, i) => {
          const share = Math.floor(callers / targets.length) + (i < callers % targets.length ? 1 : 0);
          return closedLoop(client, target, share, ms, opts);
        }),
      );
    if (cfg.warmupMs > 0) await loops(cfg.warmupMs);
    const before = await Promise.all(models.map((m) => modelStats(m.url)));
    const meter = new CpuMeter(pids);
    const parts = await loops(cfg.measureMs);
    const cpu = meter.read();
    const after = await Promise.all(models.map((m) => modelStats(m.url)));
    const results: StreamResult[] = parts.flatMap((p) => p.results);
    const wallMs = Math.max(...parts.map((p) => p.wallMs));
    const ok = results.filter((r) => r.ok);
    const perSecond = (ok.length / wallMs) * 1000;
    const ideal = (models.length * 1000) / (cfg.chunks * cfg.delayMs);
    return {
      callers,
      requestsPerSecond: round(perSecond, 2),
      idealPerSecond: round(ideal, 2),
      efficiency: round(perSecond / ideal, 3),
      total: roundSummary(summarize(ok.map((r) => r.totalMs))),
      ttft: roundSummary(summarize(ok.map((r) => r.ttftMs))),
      failures: failuresOf(results),
      servedPerReplica: after.map((a, i) => a.completed - before[i].completed),
      cpu: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round(v, 2)])),
      measuredMs: round(wallMs, 0),
    };
  } finally {
    client.close();
  }
}

/** Registers an instance on node A and connects replica i's agent to its node, in front of model i. */
async function startReplicas(
  nodes: Record<NodeName, RegistryNode>,
  placement: NodeName[],
  models: FakeModelProcess[],
  agents: ProbedProcess[],
): Promise<Registered> {
  const instance = await registerInstance(nodes.A.url, `bench replicas ${placement.join(' ')}`);
  const started = await Promise.allSettled(
    placement.map((node, i) =>
      startHostAgent(`agent-replica-r${i + 1}`, {
        registry: nodes[node].url,
        instanceId: instance.instanceId,
        password: instance.password,
        upstream: models[i].url,
        concurrency: 1,
        replica: `r${i + 1}`,
      }),
    ),
  );
  // Every agent that started is stopped by the caller, also when another one failed.
  for (const result of started) if (result.status === 'fulfilled') agents.push(result.value);
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return instance;
}

export async function replicas(s: Scenario): Promise<ReplicasResult> {
  const { settings, deployment } = s;
  const cfg = settings.replicas;
  const answerMs = cfg.chunks * cfg.delayMs;
  const nodes: Record<NodeName, RegistryNode> = { A: deployment.nodeA, B: deployment.nodeB };
  const setups: Setup[] = cfg.onOneNode.map((r) => ({
    placement: Array.from({ length: r }, (): NodeName => 'A'),
    callersOn: [['A']],
  }));
  if (cfg.split >= 2) setups.push({ placement: split(cfg.split), callersOn: [['A'], ['A', 'B']] });
  const count = Math.max(1, ...setups.map((x) => x.placement.length));
  const opts: RunOptions = {
    // Worst case: every caller waits for one replica.
    timeoutMs: settings.requestTimeoutMs + cfg.callersPerReplica * count * answerMs,
    expectChunks: cfg.chunks + 1,
  };

  const models: FakeModelProcess[] = [];
  const runs: ReplicaRun[] = [];
  try {
    s.log(`  starting ${count} fake models serving one chat at a time (${cfg.chunks} × ${cfg.delayMs} ms)`);
    const args = ['--chunks', String(cfg.chunks), '--delay-ms', String(cfg.delayMs), '--max-concurrent', '1'];
    for (let i = 0; i < count; i++) models.push(await startFakeModelProcess(args));

    s.log(`  baseline: ${cfg.callersPerReplica} callers straight to one model`);
    const direct = { name: 'direct', url: new URL(`${models[0].url}/chat/completions`) };
    runs.push({
      placement: [],
      callersOn: 'direct',
      replicas: 1,
      listedReplicas: null,
      agentsRunning: 0,
      ...(await measure(s, [direct], cfg.callersPerReplica, models.slice(0, 1), {}, opts)),
    });

    for (const { placement, callersOn: callerSets } of setups) {
      const r = placement.length;
      const agents: ProbedProcess[] = [];
      try {
        const instance = await startReplicas(nodes, placement, models, agents);
        for (const callersOn of callerSets) {
          const callers = cfg.callersPerReplica * r;
          s.log(
            `  ${r} replicas on ${placement.join(' ')}, ${callers} callers on ${callersOn.join(' and ')}`,
          );
          const listedReplicas = await listed(
            callersOn.map((n) => nodes[n]),
            instance,
            r,
          );
          const pids: Record<string, number> = { 'node A': nodes.A.pid };
          if (placement.includes('B') || callersOn.includes('B')) pids['node B'] = nodes.B.pid;
          const targets = callersOn.map((n) => ({ name: n, url: nodes[n].chatUrl(instance.instanceId) }));
          const figures = await measure(s, targets, callers, models.slice(0, r), pids, opts);
          // Say why an agent or a node is gone (its last lines): the table only counts them.
          for (const p of [...agents, nodes.A, nodes.B].filter((x) => !x.proc.running))
            s.log(`  ${p.name} exited: ${p.proc.output.slice(-3).join(' | ')}`);
          const agentsRunning = agents.filter((a) => a.proc.running).length;
          runs.push({ placement, callersOn, replicas: r, listedReplicas, agentsRunning, ...figures });
        }
      } finally {
        await Promise.all(agents.map((a) => a.stop()));
      }
    }
  } finally {
    await Promise.all(models.map((m) => m.proc.stop()));
  }
  return { chunks: cfg.chunks, delayMs: cfg.delayMs, answerMs, runs };
}

/**
 * Waits (up to 10 s) until every caller node reports the instance online and, if its detail lists
 * replicas, lists `expected` of them; returns the fewest listed (null: the detail has no list).
 */
async function listed(callerNodes: RegistryNode[], instance: Registered, expected: number) {
  let fewest: number | null = null;
  // Not all there after 10 s: the run goes ahead and the table shows how many were listed.
  await eventually(async () => {
    const details = await Promise.all(callerNodes.map((n) => instanceDetail(n.url, instance)));
    const lists = details.map((d) => d.replicas?.length);
    fewest = lists.some((n) => n === undefined) ? null : Math.min(...(lists as number[]));
    return details.every((d) => d.status === 'online') && (fewest === null || fewest >= expected);
  }, 10_000).catch(() => undefined);
  return fewest;
}
