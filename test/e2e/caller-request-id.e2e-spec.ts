import { ClusterWithAgent, startClusterWithAgent } from '../support/cluster';
import type { ChatBody } from '../support/fake-model-server';
import { RunningRegistry } from '../support/processes';
import { contentOf, readSse } from '../support/sse';

const CHUNKS = 6;
const SHARED_ID = 'trace-0123456789abcdef';

/** Each caller's prompt comes back in every chunk, so an answer meant for someone else shows. */
const echoPrompt = (i: number, body: ChatBody) => `${String(body.messages?.at(-1)?.content)}#${i};`;
const expected = (prompt: string) => Array.from({ length: CHUNKS }, (_, i) => `${prompt}#${i};`).join('');

/**
 * Chats are routed on an id the registry makes, never on the caller's X-Request-Id: callers
 * repeat ids (retries, gateways propagating trace ids, someone who learned another caller's id).
 */
describe('chats that carry the same X-Request-Id', () => {
  let setup: ClusterWithAgent;

  beforeAll(async () => {
    setup = await startClusterWithAgent(
      { label: 'reqid', nodes: 2 },
      { chunks: CHUNKS, delayMs: 20, content: echoPrompt },
      { env: { HOST_CONCURRENCY: '32' } },
    );
  });

  afterAll(async () => {
    await setup?.cluster.stop();
  });

  it.each([
    [2, 'the node holding the host', () => setup.cluster.nodes[0]],
    [20, 'the node holding the host', () => setup.cluster.nodes[0]],
    [20, 'the other node (through Redis)', () => setup.cluster.nodes[1]],
  ])('%i concurrent chats via %s each get their own complete answer', async (count, _label, node) => {
    const url = `${(node() as RunningRegistry).url}/api/chat/${setup.instance.instanceId}`;
    const prompts = Array.from({ length: count }, (_, i) => `caller-${i}`);
    const results = await Promise.all(
      prompts.map((prompt) =>
        readSse(
          url,
          { messages: [{ role: 'user', content: prompt }] },
          { headers: { 'x-request-id': SHARED_ID }, signal: AbortSignal.timeout(10_000) },
        ),
      ),
    );
    results.forEach((result, i) => {
      expect({ status: result.status, done: result.done, text: contentOf(result.data) }).toEqual({
        status: 200,
        done: true,
        text: expected(prompts[i]),
      });
      // The caller's id is still echoed, for tracing across systems.
      expect(result.headers.get('x-request-id')).toBe(SHARED_ID);
    });
  });
});
