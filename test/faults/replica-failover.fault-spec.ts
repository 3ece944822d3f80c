import { setTimeout as sleep } from 'node:timers/promises';
import { describeChat, steadyLoad, TimedChat } from '../support/chat-load';
import { TestCluster } from '../support/cluster';
import { chatsReceived, chatTextsReceived, FakeModel, nextChatRequest } from '../support/fake-model-server';
import type { RunningRegistry, TestProcess } from '../support/processes';
import { Registered, waitForReplicas } from '../support/registry-client';
import { contentOf } from '../support/sse';

/** Chat loops per node; together (12) more than both replicas take at once (2 × 4): some chats queue. */
const LOOPS_PER_NODE = 6;
const CONCURRENCY = '4';

/**
 * Issue #13, fault 1: two replicas of one instance on different nodes (agent "one" on A, agent
 * "two" on B), a steady load of streamed chats through both nodes, SIGKILL of agent "one" the
 * moment its model receives a chat (so at least one chat is on it without a token). Each
 * replica has its own paced model (150 ms before the first token, then 20 chunks 25 ms apart)
 * whose chunks name it, so every caller knows which replica answered.
 */
describe('fault: SIGKILL of one of two replicas (on different nodes) under load', () => {
  let cluster: TestCluster;
  let nodeA: RunningRegistry;
  let nodeB: RunningRegistry;
  let instance: Registered;
  let modelOne: FakeModel;
  let modelTwo: FakeModel;
  let agentOne: TestProcess;

  beforeAll(async () => {
    cluster = await TestCluster.start({ label: 'failover', nodes: 2 });
    [nodeA, nodeB] = cluster.nodes;
    const pacedModel = (replica: string) =>
      cluster.model({ chunks: 20, delayMs: 25, firstDelayMs: 150, content: (i) => `${replica}.${i} ` });
    [modelOne, modelTwo] = await Promise.all([pacedModel('one'), pacedModel('two')]);
    instance = await cluster.register('two replicas, one dies');
    const replica = (node: RunningRegistry, name: string, model: FakeModel) =>
      cluster.agent(instance, model, { node, replica: name, env: { HOST_CONCURRENCY: CONCURRENCY } });
    [agentOne] = await Promise.all([replica(nodeA, 'one', modelOne), replica(nodeB, 'two', modelTwo)]);
    await waitForReplicas([nodeA.url, nodeB.url], instance, ['one', 'two']);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('fails no chat that had no token yet; the dead replica leaves routing and the detail', async () => {
    const chatUrl = (node: RunningRegistry) => `${node.url}/api/chat/${instance.instanceId}`;
    const load = steadyLoad([
      ...Array.from({ length: LOOPS_PER_NODE }, () => chatUrl(nodeA)),
      ...Array.from({ length: LOOPS_PER_NODE }, () => chatUrl(nodeB)),
    ]);
    await sleep(2_000);
    // Kill the moment replica one's model gets a chat: that chat is 150 ms from its first token.
    const caught = await nextChatRequest(modelOne);
    const killAt = Date.now();
    agentOne.signal('SIGKILL');
    const servedBefore = { one: chatsReceived(modelOne), two: chatsReceived(modelTwo) };
    const [goneMs] = await Promise.all([
      waitForReplicas([nodeA.url, nodeB.url], instance, ['two'], 5_000).then(() => Date.now() - killAt),
      agentOne.exited,
    ]);
    // Keep the load going well past the kill, then let every chat end.
    await sleep(Math.max(0, killAt + 3_000 - Date.now()));
    await load.stop();

    const results = load.results;
    const answeredBy = (c: TimedChat) => {
      const text = contentOf(c.end.data);
      return [text.includes('one.') && 'one', text.includes('two.') && 'two'].filter(Boolean).join('+');
    };
    const pendingAtKill = results.filter((c) => c.sentAt < killAt && c.end.endedAt > killAt);
    const noTokenAtKill = pendingAtKill.filter((c) => !(c.end.arrivals[0] < killAt));
    const failed = results.filter((c) => !c.end.done);
    // Only a chat that had tokens from the killed replica (so had its first token before the kill) may fail.
    const startedOnKilled = failed.filter((c) => answeredBy(c).includes('one'));
    const otherFailures = failed.filter((c) => !answeredBy(c).includes('one'));
    const afterOneSecond = results.filter((c) => c.sentAt >= killAt + 1_000);
    const caughtChat = results.find((c) => c.content === caught);
    // Chats that reached replica one's model and were answered by replica two: moved before their first token.
    const reachedOne = new Set(chatTextsReceived(modelOne));
    const movedOver = results.filter((c) => answeredBy(c) === 'two' && reachedOne.has(c.content));
    console.log(
      `replica failover: ${results.length} chats (served before the kill: one ${servedBefore.one}, two ` +
        `${servedBefore.two}); at the kill ${pendingAtKill.length} pending, ${noTokenAtKill.length} of them ` +
        `without a token (they ended: ${JSON.stringify(noTokenAtKill.map(answeredBy))}); failed: ` +
        `${startedOnKilled.length} that had started on the killed replica ` +
        `${JSON.stringify(startedOnKilled.slice(0, 5).map(describeChat))}, ${otherFailures.length} others; ` +
        `${movedOver.length} reached replica one's model and were answered by two (the one it had at the kill: ` +
        `${caughtChat ? describeChat(caughtChat) : 'missing'}); the detail dropped it after ${goneMs} ms; ` +
        `${afterOneSecond.length} chats sent ≥1 s after the kill`,
    );

    // The scenario really happened: both replicas had load, and chats were waiting for a token.
    expect(servedBefore.one).toBeGreaterThan(0);
    expect(servedBefore.two).toBeGreaterThan(0);
    expect(noTokenAtKill.length).toBeGreaterThan(0);
    expect(afterOneSecond.length).toBeGreaterThan(0);

    // The chat replica one had just been given (no token yet) moved to replica two and completed.
    expect(caughtChat).toBeDefined();
    expect(`${describeChat(caughtChat!)} by ${answeredBy(caughtChat!)}`).toMatch(/^200 done=true .* by two$/);

    // Nothing that had not started on the killed replica fails, and nothing hangs.
    expect(otherFailures.map(describeChat)).toEqual([]);
    for (const c of noTokenAtKill) expect(describeChat(c)).toMatch(/^200 done=true/);
    expect(results.filter((c) => c.timedOut).map(describeChat)).toEqual([]);
    // A chat cut off on the killed replica ends with an error event, not a broken connection.
    for (const c of startedOnKilled) {
      expect(c.end.status).toBe(200);
      expect(c.end.transportError).toBeNull();
      expect(c.end.error).not.toBeNull();
    }
    // From 1 s after the kill, every chat is answered, by replica two alone.
    expect(afterOneSecond.filter((c) => !c.end.done || answeredBy(c) !== 'two').map(describeChat)).toEqual(
      [],
    );
  });
});
