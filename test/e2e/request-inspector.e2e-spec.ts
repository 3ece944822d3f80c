import type { Envelope, InspectedRequest, RequestList } from '@app/contracts';
import { ClusterWithAgent, startClusterWithAgent } from '../support/cluster';
import { RunningRegistry } from '../support/processes';
import { eventually } from '../support/registry-client';
import { readAsCaller, readSse } from '../support/sse';

const TRACE = 'trace-inspector-0001';

/**
 * Node A holds the host; callers call node B. Each node keeps the requests it took in memory, so
 * what the owner reads on A about B's callers came from B over the cluster bus, on demand.
 */
describe('the request inspector across two nodes', () => {
  let setup: ClusterWithAgent;
  let a: RunningRegistry;
  let b: RunningRegistry;

  const inspect = async (node: RunningRegistry, query = '', auth = setup.instance.auth) => {
    const res = await fetch(`${node.url}/api/upload/${setup.instance.instanceId}/requests${query}`, {
      headers: { authorization: auth },
    });
    return { status: res.status, body: (await res.json()) as Envelope<RequestList> };
  };
  const chatUrl = (node: RunningRegistry) => `${node.url}/api/chat/${setup.instance.instanceId}`;

  beforeAll(async () => {
    setup = await startClusterWithAgent({ label: 'inspector', nodes: 2 }, { chunks: 8, delayMs: 60 });
    [a, b] = setup.cluster.nodes;
  });

  afterAll(async () => {
    await setup?.cluster.stop();
  });

  it('lists on node A an answered chat, a refusal and a caller who left, all taken by node B', async () => {
    const answered = await readSse(
      chatUrl(b),
      { messages: [{ role: 'user', content: 'hi' }] },
      { headers: { 'x-request-id': TRACE } },
    );
    expect(answered.status).toBe(200);
    const refused = await fetch(chatUrl(b), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [] }),
    });
    expect(refused.status).toBe(422);
    const left = await readAsCaller(chatUrl(b), { messages: [{ role: 'user', content: 'bye' }] }, {}, 1);
    expect(left.contentChunks).toBe(1);

    let items: InspectedRequest[] = [];
    await eventually(async () => {
      ({ items } = (await inspect(a)).body.data!);
      return items.length === 3;
    }, 5_000);
    const [gone, invalid, ok] = items;
    expect(ok).toMatchObject({
      endpoint: '/api/chat/{id}',
      status: 200,
      code: null,
      outcome: 'answered',
      node: b.nodeId,
      served_by_node: a.nodeId,
      // The agent names its replica after the machine unless told otherwise.
      replica: expect.stringMatching(/./),
      caller: '127.0.0.0/24',
      request_id: TRACE,
      key_name: null,
    });
    expect(ok.ttft_ms).toEqual(expect.any(Number));
    expect(ok.duration_ms).toBeGreaterThanOrEqual(ok.ttft_ms!);
    expect(invalid).toMatchObject({
      status: 422,
      code: 'invalid_value',
      outcome: 'refused',
      ttft_ms: null,
      node: b.nodeId,
    });
    expect(gone).toMatchObject({ status: 200, code: 'caller_gone', outcome: 'left', node: b.nodeId });
    expect(gone.ttft_ms).toEqual(expect.any(Number));
    expect(Date.parse(gone.at)).toBeGreaterThanOrEqual(Date.parse(ok.at));

    const fromA = await inspect(a);
    expect(fromA.body.data!.nodes).toEqual({ asked: 2, answered: 2, skipped: [] });
  });

  it('filters by status class and outcome on every node, and polls with since', async () => {
    const outcomes = async (query: string) =>
      (await inspect(a, query)).body.data!.items.map((r) => r.outcome);
    expect(await outcomes('?status=4xx')).toEqual(['refused']);
    expect(await outcomes('?status=left')).toEqual(['left']);
    expect(await outcomes('?status=5xx')).toEqual([]);
    expect(await outcomes('?limit=1')).toEqual(['left']);
    const newest = (await inspect(a)).body.data!.items[0];
    expect(await outcomes(`?since=${encodeURIComponent(newest.at)}`)).toEqual(['left']);
  });

  it('is the owner’s only, and names bad filters', async () => {
    expect((await inspect(a, '', 'Bearer nobody')).status).toBe(401);
    const bad = await inspect(a, '?status=3xx');
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body)).toContain('status');
  });

  it('is described in /docs', async () => {
    const spec = (await (await fetch(`${a.url}/docs/openapi.json`)).json()) as {
      paths: Record<string, { get?: { parameters?: Array<{ name: string; schema?: { enum?: string[] } }> } }>;
    };
    const params = spec.paths['/api/upload/{instanceId}/requests']?.get?.parameters ?? [];
    expect(params.map((p) => p.name)).toEqual(expect.arrayContaining(['status', 'key_id', 'since', 'limit']));
    expect(params.find((p) => p.name === 'status')?.schema?.enum).toEqual(
      expect.arrayContaining(['4xx', 'refused', 'left']),
    );
  });
});
