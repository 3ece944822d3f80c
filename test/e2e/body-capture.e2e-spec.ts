import type { CaptureState, CapturedBody, Envelope, InspectedRequest, RequestList } from '@app/contracts';
import { ClusterWithAgent, startClusterWithAgent } from '../support/cluster';
import { RunningRegistry } from '../support/processes';
import { eventually } from '../support/registry-client';
import { contentOf, readSse } from '../support/sse';

/**
 * The owner switches body capture on node A; callers call node B, which keeps the bodies in its
 * memory; the owner reads them on A, which asks B over the cluster bus.
 */
describe('body capture across two nodes', () => {
  let setup: ClusterWithAgent;
  let a: RunningRegistry;
  let b: RunningRegistry;

  const api = async <T>(node: RunningRegistry, path: string, init: RequestInit = {}, auth?: string) => {
    const res = await fetch(`${node.url}/api/upload/${setup.instance.instanceId}${path}`, {
      ...init,
      headers: {
        authorization: auth ?? setup.instance.auth,
        ...(init.body !== undefined && { 'content-type': 'application/json' }),
      },
    });
    return { status: res.status, body: (await res.json()) as Envelope<T> };
  };
  const capture = (node: RunningRegistry, minutes: unknown, auth?: string) =>
    api<CaptureState>(node, '/capture', { method: 'PUT', body: JSON.stringify({ minutes }) }, auth);
  const chat = (node: RunningRegistry, trace: string, content: string) =>
    readSse(
      `${node.url}/api/chat/${setup.instance.instanceId}`,
      {
        messages: [
          { role: 'system', content: 'Answer briefly.' },
          { role: 'user', content },
        ],
      },
      { headers: { 'x-request-id': trace } },
    );
  /** The row of the request the caller saw as `trace`, once node A lists it. */
  const rowOf = async (trace: string) => {
    let row: InspectedRequest | undefined;
    await eventually(async () => {
      const list = await api<RequestList>(a, '/requests');
      row = list.body.data!.items.find((r) => r.request_id === trace);
      return row !== undefined;
    }, 5_000);
    return row!;
  };

  beforeAll(async () => {
    setup = await startClusterWithAgent({ label: 'capture', nodes: 2 }, { chunks: 4, delayMs: 20 });
    [a, b] = setup.cluster.nodes;
  });

  afterAll(async () => {
    await setup?.cluster.stop();
  });

  it('captures nothing while off (the default)', async () => {
    expect((await api<CaptureState>(a, '/capture')).body.data).toEqual({ until: null });
    expect((await chat(b, 'trace-capture-off-01', 'not kept')).status).toBe(200);
    const row = await rowOf('trace-capture-off-01');
    expect(row.captured).toBe(false);
    const body = await api(a, `/requests/${row.id}/body`);
    expect(body.status).toBe(404);
    expect(JSON.stringify(body.body)).toContain('no captured bodies');
  });

  it('turned on via A, keeps a chat served on B, readable by the owner via A', async () => {
    const on = await capture(a, 5);
    expect(on.status).toBe(200);
    const until = Date.parse(on.body.data!.until!);
    expect(until).toBeGreaterThan(Date.now() + 4 * 60_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 5 * 60_000);
    // The switch reached B over the bus.
    await eventually(async () => (await api<CaptureState>(b, '/capture')).body.data!.until !== null, 5_000);

    const answered = await chat(b, 'trace-capture-on-01', 'keep this question');
    expect(answered.status).toBe(200);
    const row = await rowOf('trace-capture-on-01');
    expect(row).toMatchObject({ node: b.nodeId, captured: true });

    const got = await api<CapturedBody>(a, `/requests/${row.id}/body`);
    expect(got.status).toBe(200);
    const body = got.body.data!;
    expect(JSON.parse(body.request)).toMatchObject({
      messages: [
        { role: 'system', content: 'Answer briefly.' },
        { role: 'user', content: 'keep this question' },
      ],
    });
    expect(body.response).toBe(contentOf(answered.data));
    expect(body.response.length).toBeGreaterThan(0);
    expect(body).toMatchObject({ request_truncated: false, response_truncated: false });
  });

  it('keeps the other endpoints too: the caller’s body and the model server’s answer as written', async () => {
    const res = await fetch(`${b.url}/api/chat/${setup.instance.instanceId}/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: 'capture this text' }),
    });
    expect(res.status).toBe(200);
    const answer = await res.text();
    let row: InspectedRequest | undefined;
    await eventually(async () => {
      const list = await api<RequestList>(a, '/requests');
      row = list.body.data!.items.find((r) => r.endpoint.endsWith('/embeddings'));
      return row !== undefined;
    }, 5_000);
    expect(row).toMatchObject({ node: b.nodeId, captured: true });
    const got = await api<CapturedBody>(a, `/requests/${row!.id}/body`);
    expect(got.status).toBe(200);
    expect(JSON.parse(got.body.data!.request)).toEqual({ input: 'capture this text' });
    expect(got.body.data!.response).toBe(answer);
    expect(got.body.data!.response).toContain('"embedding"');
  });

  it('is the owner’s only, and names bad switches', async () => {
    const row = await rowOf('trace-capture-on-01');
    expect((await api(a, `/requests/${row.id}/body`, {}, 'Bearer nobody')).status).toBe(401);
    expect((await api(b, `/requests/${row.id}/body`, {}, 'Bearer nobody')).status).toBe(401);
    expect((await capture(a, 5, 'Bearer nobody')).status).toBe(401);
    for (const minutes of [1441, -1, 'ten', 2.5]) {
      const bad = await capture(a, minutes);
      expect(bad.status).toBe(422);
      expect(JSON.stringify(bad.body)).toContain('minutes');
    }
  });

  it('turned off via A, B deletes what it kept', async () => {
    const row = await rowOf('trace-capture-on-01');
    const off = await api<CaptureState>(a, '/capture', { method: 'DELETE' });
    expect(off.status).toBe(200);
    expect(off.body.data).toEqual({ until: null });
    await eventually(async () => (await api(a, `/requests/${row.id}/body`)).status === 404, 5_000);
    expect((await rowOf('trace-capture-on-01')).captured).toBe(false);
    expect((await chat(b, 'trace-capture-off-02', 'after off')).status).toBe(200);
    expect((await rowOf('trace-capture-off-02')).captured).toBe(false);
  });

  it('is described in /docs', async () => {
    const spec = (await (await fetch(`${a.url}/docs/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(spec.paths['/api/upload/{instanceId}/capture'] ?? {})).toEqual(
      expect.arrayContaining(['get', 'put', 'delete']),
    );
    expect(spec.paths['/api/upload/{instanceId}/requests/{requestId}/body']?.get).toBeDefined();
  });
});
