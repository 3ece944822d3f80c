import { readKeys, TestCluster } from '../support/cluster';
import { HostSwarm, SwarmEvent } from '../support/host-swarm';
import { RunningRegistry } from '../support/processes';
import { eventually, registerInstance, Registered } from '../support/registry-client';
import { percentile } from '@app/common';
import { histogram, summary } from '../support/stats';

const HOSTS = 1_000;
/** Hosts come from several loopback addresses, like hosts on many machines (per-IP limits stay at their defaults). */
const SOURCES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];

async function connectedHosts(node: RunningRegistry): Promise<number> {
  const res = await fetch(`${node.url}/healthz`);
  return ((await res.json()) as { connected_hosts: number }).connected_hosts;
}

/** Scenario 8: 1,000 connected hosts lose their node at once and all come back through the other. */
describe('fault: reconnect storm of 1,000 hosts after their node is SIGKILLed', () => {
  let cluster: TestCluster;
  let nodeA: RunningRegistry;
  let nodeB: RunningRegistry;
  let swarm: HostSwarm;
  let instances: Registered[];

  beforeAll(async () => {
    // 1,000 registrations from loopback: past the per-address registration limit meant for strangers.
    cluster = await TestCluster.start({
      label: 'storm',
      nodes: 2,
      env: { REGISTER_PER_IP_PER_MIN: '0' },
    });
    [nodeA, nodeB] = cluster.nodes;
    const started = Date.now();
    instances = [];
    for (let i = 0; i < HOSTS; i += 25)
      instances.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(25, HOSTS - i) }, (_, j) =>
            registerInstance(nodeA.url, `storm ${i + j}`),
          ),
        )),
      );
    console.log(`registered ${HOSTS} instances in ${Date.now() - started} ms`);
  });

  afterAll(async () => {
    await swarm?.stop();
    await cluster?.stop();
  });

  it('brings every host back online through the other node within 30 s, with jittered reconnects and no 5xx', async () => {
    swarm = new HostSwarm(instances, {
      urls: [nodeA.url, nodeB.url],
      backoffBaseMs: 500,
      backoffCapMs: 30_000,
      localAddresses: SOURCES,
    });
    swarm.start(3_000);
    const rampMs = await eventually(async () => (await connectedHosts(nodeA)) === HOSTS, 30_000, 50);
    expect(swarm.connected(nodeA.url)).toBe(HOSTS);
    const eventsBefore = swarm.events.length;

    const killedAt = Date.now();
    nodeA.proc.signal('SIGKILL');
    const allBackMs = await eventually(() => swarm.connected(nodeB.url) === HOSTS, 30_000, 50);
    await eventually(async () => (await connectedHosts(nodeB)) === HOSTS, 5_000, 50);

    const after: SwarmEvent[] = swarm.events.slice(eventsBefore);
    const firstOpen = new Map<number, number>();
    const firstDial = new Map<number, number>();
    for (const e of after) {
      if (e.kind === 'open' && !firstOpen.has(e.host)) firstOpen.set(e.host, e.at - killedAt);
      if (e.kind === 'dial' && !firstDial.has(e.host)) firstDial.set(e.host, e.at - killedAt);
    }
    const times = [...firstOpen.values()];
    const dials = [...firstDial.values()];
    const upgradeMs = [...firstOpen.entries()].map(([host, at]) => at - (firstDial.get(host) ?? 0));
    const attempts = after.filter((e) => e.kind === 'dial').length;
    const refused = [...swarm.rejected.entries()];
    const failedAtB = after.filter((e) => e.kind === 'failed' && e.url === nodeB.url);
    const failures = [...swarm.failures().entries()];
    const owners = await readKeys(
      cluster.redisUrl,
      instances.map((i) => `${cluster.prefix}:owner:${i.instanceId}`),
    );
    const ownedByB = owners.filter((o) => o?.startsWith(`${nodeB.nodeId}|`)).length;
    const errorLines = nodeB.proc.output.filter((l) => /upgrade failed|could not accept|ERROR/.test(l));
    console.log(
      `reconnect storm: ${HOSTS} hosts on node A (ramp ${rampMs} ms); A SIGKILLed; all ${HOSTS} open on B after ` +
        `${allBackMs} ms; ${attempts} connection attempts; refused upgrades by status ${JSON.stringify(refused)}; ` +
        `failed attempts ${JSON.stringify(failures)}; owner records naming B ${ownedByB}/${HOSTS}\n` +
        `first redial after the kill (the agents' full jitter): ${summary(dials)}\n${histogram(dials, 10)}\n` +
        `online again after the kill: ${summary(times)}\n${histogram(times, 10)}\n` +
        `upgrade time on B (dial to open, B's queue under the storm): ${summary(upgradeMs)}\n` +
        `node B error lines: ${errorLines.length} ${JSON.stringify(errorLines.slice(0, 3))}`,
    );

    expect(times).toHaveLength(HOSTS);
    expect(allBackMs).toBeLessThan(30_000);
    // Full jitter: the redials are spread out over the first backoff ceiling, not a lock-step wave.
    expect(percentile(dials, 90) - percentile(dials, 10)).toBeGreaterThan(250);
    // PostgreSQL and Redis never refused work: no 5xx on an upgrade, no attempt on B dropped.
    expect(refused.filter(([status]) => status >= 500)).toEqual([]);
    expect(failedAtB).toEqual([]);
    expect(errorLines).toEqual([]);
    expect(ownedByB).toBe(HOSTS);
  });
});
