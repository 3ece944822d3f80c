import { TestCluster } from '../support/cluster';
import type { FakeModel } from '../support/fake-model-server';
import type { RunningRegistry, TestProcess } from '../support/processes';
import { Registered, waitForReplicas } from '../support/registry-client';

/**
 * Issue #24: a non-chat request fails over as a chat does. Two replicas on different nodes;
 * replica one's model thinks 400 ms before its answer's head, and its agent is SIGKILLed the moment
 * that model receives an embeddings request. Every request, the caught one included, is answered
 * by replica two (its model names itself in `model`).
 */
describe('fault: SIGKILL of a replica before the first byte of embeddings requests', () => {
  let cluster: TestCluster;
  let nodeA: RunningRegistry;
  let nodeB: RunningRegistry;
  let instance: Registered;
  let modelOne: FakeModel;
  let agentOne: TestProcess;

  beforeAll(async () => {
    cluster = await TestCluster.start({ label: 'endpoint-failover', nodes: 2 });
    [nodeA, nodeB] = cluster.nodes;
    modelOne = await cluster.model({ models: ['one'], firstDelayMs: 400 });
    const modelTwo = await cluster.model({ models: ['two'] });
    instance = await cluster.register('embeddings, one replica dies');
    [agentOne] = await Promise.all([
      cluster.agent(instance, modelOne, { node: nodeA, replica: 'one' }),
      cluster.agent(instance, modelTwo, { node: nodeB, replica: 'two' }),
    ]);
    await waitForReplicas([nodeA.url, nodeB.url], instance, ['one', 'two']);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('moves the requests replica one had not answered to replica two; none fails', async () => {
    const caught = new Promise<void>((resolve) =>
      modelOne.events.on('request', (r: { path: string }) => {
        if (r.path === '/v1/embeddings') resolve();
      }),
    );
    const embed = (node: RunningRegistry, input: string) =>
      fetch(`${node.url}/api/chat/${instance.instanceId}/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input }),
      }).then(async (res) => ({ input, status: res.status, body: (await res.json()) as { model?: string } }));
    // Enough at once, through both nodes, that some go to replica one (routing spreads by free capacity).
    const requests = Array.from({ length: 8 }, (_, i) => embed(i % 2 === 0 ? nodeA : nodeB, `text ${i}`));
    await caught;
    agentOne.signal('SIGKILL');
    const answers = await Promise.all(requests);

    const reachedOne = new Set(
      modelOne.requests
        .filter((r) => r.path === '/v1/embeddings')
        .map((r) => (r.body as { input: string }).input),
    );
    expect(reachedOne.size).toBeGreaterThan(0);
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    for (const answer of answers.filter((a) => reachedOne.has(a.input)))
      expect(answer.body.model).toBe('two');
  });
});
