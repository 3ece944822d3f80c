import { TestCluster } from '../support/cluster';
import type { RunningRegistry, TestProcess } from '../support/processes';
import { eventually, instanceDetail, Registered } from '../support/registry-client';

const PING_MS = 500;

/** Scenario 4: the agent's network goes silent (SIGSTOP), then comes back (SIGCONT). */
describe('fault: the agent goes silent', () => {
  let cluster: TestCluster;
  let node: RunningRegistry;
  let agent: TestProcess;
  let instance: Registered;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      label: 'silent',
      nodes: 1,
      env: { WS_PING_INTERVAL_MS: String(PING_MS), PRESENCE_TTL_MS: '3000', PRESENCE_REFRESH_MS: '1000' },
    });
    node = cluster.nodes[0];
    const model = await cluster.modelProcess();
    instance = await cluster.register('silent agent');
    // The agent's production backoff (0.5 s to 30 s).
    agent = await cluster.agent(instance, model.url, {
      env: { HOST_BACKOFF_BASE_MS: '500', HOST_BACKOFF_CAP_MS: '30000' },
    });
    await cluster.waitOnline(instance);
  });

  afterAll(async () => {
    agent?.signal('SIGCONT');
    await cluster?.stop();
  });

  it('is dropped within two ping intervals, and is back online after SIGCONT', async () => {
    const stoppedAt = Date.now();
    agent.signal('SIGSTOP');
    await eventually(async () => (await instanceDetail(node.url, instance)).status === 'offline', 5_000, 20);
    const droppedMs = Date.now() - stoppedAt;

    const fromLine = agent.output.length;
    const resumedAt = Date.now();
    agent.signal('SIGCONT');
    await agent.waitFor(/connected to/, 10_000, fromLine);
    const reconnectMs = Date.now() - resumedAt;
    await eventually(async () => (await instanceDetail(node.url, instance)).status === 'online', 5_000, 20);
    const onlineMs = Date.now() - resumedAt;
    console.log(
      `silent agent: offline ${droppedMs} ms after SIGSTOP (ping interval ${PING_MS} ms); ` +
        `after SIGCONT reconnected in ${reconnectMs} ms, online in ${onlineMs} ms; agent said: ` +
        JSON.stringify(agent.output.slice(fromLine).filter((l) => /reconnect|disconnect|no answer/i.test(l))),
    );
    // Two ping intervals, plus the presence release and the polling on a busy machine.
    expect(droppedMs).toBeLessThanOrEqual(2 * PING_MS + 400);
    expect(onlineMs).toBeLessThan(5_000);
  });
});
