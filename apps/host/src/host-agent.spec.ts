import type { HelloFrame } from '@app/protocol';
import { startFakeModel } from '../../../test/support/fake-model-server';
import {
  INSTANCE,
  PASSWORD,
  REPLICA,
  HostAgentHarness,
  delay,
  lines,
} from '../../../test/support/fake-registry';
import { eventually } from '../../../test/support/eventually';
import { freePort } from '../../../test/support/redis-server';

describe('HostAgent (in process, against a fake registry and a fake model)', () => {
  const h = new HostAgentHarness();
  beforeAll(() => h.start());
  afterEach(async () => {
    // The password must never reach the logs, whatever happened.
    expect(await h.cleanUp()).not.toContain(PASSWORD);
  });
  afterAll(() => h.close());

  it('connects with the Bearer and X-Replica headers and says hello with its replica and the upstream models', async () => {
    const registry = await h.newRegistry();
    h.newAgent([registry.url]);
    await eventually(() => registry.frames.some((f) => f.frame.type === 'hello'), 3000);
    const hello = registry.frames.find((f) => f.frame.type === 'hello')!;
    expect(hello.frame).toEqual<HelloFrame>({
      type: 'hello',
      version: '1.0',
      agent: 'model-registry-host/0.1',
      replica: REPLICA,
      capabilities: {
        concurrency: 4,
        cancel: true,
        models: ['m1', 'm2'],
        endpoints: ['embeddings', 'completions', 'responses', 'messages', 'rerank'],
      },
    });
    // The hello is the first frame, then JSON heartbeats follow.
    expect(registry.frames[0].frame.type).toBe('hello');
    await eventually(() => registry.frames.filter((f) => f.frame.type === 'heartbeat').length >= 2, 2000);
    const beat = registry.frames.find((f) => f.frame.type === 'heartbeat')!.frame;
    expect(beat).toMatchObject({
      type: 'heartbeat',
      version: '1.0',
      data: { instance_id: INSTANCE, status: 'alive' },
    });

    expect(registry.upgrades[0].url).toBe(`/api/ws/${INSTANCE}`);
    expect(registry.upgrades[0].headers.authorization).toBe(`Bearer ${INSTANCE}:${PASSWORD}`);
    expect(registry.upgrades[0].headers['x-replica']).toBe(REPLICA);
    expect(h.logger.text()).toContain(`connected to ${registry.url} as ${INSTANCE} (replica ${REPLICA})`);
    expect(h.agent!.connected).toBe(true);
  });

  it('announces only the endpoints of --endpoints, serves them, and refuses any other it is sent', async () => {
    const registry = await h.newRegistry();
    h.newAgent([registry.url], { endpoints: ['rerank'] });
    await eventually(() => registry.frames.some((f) => f.frame.type === 'hello'), 3000);
    const hello = registry.frames.find((f) => f.frame.type === 'hello')!.frame as HelloFrame;
    expect(hello.capabilities?.endpoints).toEqual(['rerank']);
    const ends = (id: string) =>
      registry.frames.filter((f) => f.frame.type === 'http_response_end' && f.frame.request_id === id);
    const request = (request_id: string, path: 'rerank' | 'embeddings', body: Record<string, unknown>) =>
      registry.send(0, { type: 'http_request', request_id, method: 'POST', path, headers: {}, body });

    request('r1', 'rerank', { model: 'm1', query: 'fox', documents: ['a cat', 'a fox'] });
    await eventually(() => ends('r1').length === 1, 3000);
    expect(ends('r1')[0].frame).toEqual({ type: 'http_response_end', request_id: 'r1' });
    const body = registry.frames
      .filter((f) => f.frame.type === 'http_response_body' && f.frame.request_id === 'r1')
      .map((f) => (f.frame as { data: string }).data)
      .join('');
    expect((JSON.parse(body) as { results: Array<{ index: number }> }).results[0].index).toBe(1);

    const before = h.model.requests.length;
    request('r2', 'embeddings', { model: 'm1', input: 'x' });
    await eventually(() => ends('r2').length === 1, 3000);
    expect(ends('r2')[0].frame).toEqual({
      type: 'http_response_end',
      request_id: 'r2',
      error: 'path embeddings is not served by this agent (see --endpoints)',
    });
    expect(
      registry.frames.some((f) => f.frame.type === 'http_response_head' && f.frame.request_id === 'r2'),
    ).toBe(false);
    expect(h.model.requests.length).toBe(before);
  });

  it('sends an empty model list when the upstream is down', async () => {
    const registry = await h.newRegistry();
    h.newAgent([registry.url], { upstreamUrl: `http://127.0.0.1:${await freePort()}/v1` });
    await eventually(() => registry.frames.some((f) => f.frame.type === 'hello'), 3000);
    const hello = registry.frames.find((f) => f.frame.type === 'hello')!;
    expect((hello.frame as HelloFrame).capabilities?.models).toEqual([]);
  });

  it('serves a chat: chat_response frames with the SSE lines, then done', async () => {
    const registry = await h.newRegistry();
    h.newAgent([registry.url]);
    await eventually(() => registry.frames.length > 0, 3000);
    const before = h.model.requests.length;
    registry.chat(0, 'r1', 'hi', { stream_options: { include_usage: true } });
    const end = await registry.finished('r1');
    expect(end.done).toBe(true);

    const frames = registry.responses('r1');
    // The last frame carries done: true (with the lines of the read that ended in [DONE], if any).
    expect(frames.at(-1)).toMatchObject({ type: 'chat_response', request_id: 'r1', done: true, conn: 0 });
    const data = lines(frames);
    // 5 content chunks, the finish chunk and the usage chunk; [DONE] itself is not forwarded.
    expect(data).toHaveLength(7);
    const chunks = data.map((l) => JSON.parse(l));
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Hello from the fake model');
    expect(chunks[5].choices[0].finish_reason).toBe('stop');
    expect(chunks[6].usage.total_tokens).toBeGreaterThan(0);
    for (const f of frames.slice(0, -1)) expect(f.done).toBe(false);
    for (const f of frames) expect(f.error).toBeUndefined();

    const upstream = h.model.requests.slice(before).find((r) => r.path === '/v1/chat/completions')!;
    expect(upstream.headers.accept).toBe('text/event-stream');
    // stream forced on, the first upstream model filled in, everything else untouched.
    expect(upstream.body).toEqual({
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      temperature: 0.7,
      max_tokens: 100,
      stream_options: { include_usage: true },
      model: 'm1',
    });
    await eventually(() => h.logger.text().includes('request r1 done in'), 3000);
    expect(h.logger.text()).toContain('serving request r1');
  });

  it('sends binary chunk frames once the registry offered them and its hello accepted; JSON otherwise', async () => {
    const offering = await h.newRegistry({ binaryChunks: true });
    h.newAgent([offering.url]);
    await eventually(() => offering.frames.some((f) => f.frame.type === 'hello'), 3000);
    const hello = offering.frames.find((f) => f.frame.type === 'hello')!.frame as HelloFrame;
    expect(hello.capabilities?.binary_chunks).toBe(true);
    offering.chat(0, 'bin', 'hi', { stream_options: { include_usage: true } });
    const end = await offering.finished('bin');
    expect(end.done).toBe(true);
    // Every frame of the answer went binary, and it carries the same seven lines as the JSON path.
    expect(offering.binaryFrames).toBe(offering.responses('bin').length);
    const data = lines(offering.responses('bin'));
    expect(data).toHaveLength(7);
    expect(data.map((l) => JSON.parse(l).choices[0]?.delta?.content ?? '').join('')).toBe(
      'Hello from the fake model',
    );
    await h.cleanUp();

    const plain = await h.newRegistry();
    h.newAgent([plain.url]);
    await eventually(() => plain.frames.some((f) => f.frame.type === 'hello'), 3000);
    const plainHello = plain.frames.find((f) => f.frame.type === 'hello')!.frame as HelloFrame;
    expect(plainHello.capabilities?.binary_chunks).toBeUndefined();
    plain.chat(0, 'json', 'hi');
    await plain.finished('json');
    expect(plain.binaryFrames).toBe(0);
    expect(lines(plain.responses('json')).length).toBeGreaterThan(0);
  });

  it('coalesces the lines of one upstream read into one raw_sse_batch frame', async () => {
    const registry = await h.newRegistry();
    h.newAgent([registry.url]);
    await eventually(() => registry.frames.length > 0, 3000);
    registry.chat(0, 'batch', 'hi');
    await registry.finished('batch');
    const frames = registry.responses('batch');
    // The fake model writes the whole answer at once (delayMs 0): far fewer frames than lines.
    expect(frames.length).toBeLessThan(lines(frames).length);
    expect(frames.some((f) => (f.raw_sse_batch?.length ?? 0) > 1)).toBe(true);
  });

  it('sends one raw_sse frame per line when lines arrive one by one, and keeps the given model', async () => {
    const slow = await startFakeModel({ chunks: 3, delayMs: 20 });
    try {
      const registry = await h.newRegistry();
      h.newAgent([registry.url], { upstreamUrl: slow.url, model: 'default-model' });
      await eventually(() => registry.frames.length > 0, 3000);
      registry.chat(0, 'one-by-one', 'hi', { model: 'explicit' });
      await registry.finished('one-by-one');
      const frames = registry.responses('one-by-one');
      expect(frames.filter((f) => f.raw_sse !== undefined).length).toBeGreaterThanOrEqual(3);
      expect((slow.requests.find((r) => r.method === 'POST')!.body as { model: string }).model).toBe(
        'explicit',
      );
      registry.chat(0, 'default', 'hi');
      await registry.finished('default');
      expect((slow.requests.filter((r) => r.method === 'POST')[1].body as { model: string }).model).toBe(
        'default-model',
      );
    } finally {
      await h.agent?.stop();
      await slow.close();
    }
  });

  it('turns an upstream HTTP error into one error frame and no done', async () => {
    const registry = await h.newRegistry();
    h.newAgent([registry.url]);
    await eventually(() => registry.frames.length > 0, 3000);
    registry.chat(0, 'bad', 'please [error500]');
    const end = await registry.finished('bad');
    expect(end.error).toMatch(/^upstream HTTP 500: .*fake model failure/);
    await delay(50);
    expect(registry.responses('bad')).toHaveLength(1);
  });

  it('turns an unreachable upstream into an error frame', async () => {
    const registry = await h.newRegistry();
    h.newAgent([registry.url], { upstreamUrl: `http://127.0.0.1:${await freePort()}/v1` });
    await eventually(() => registry.frames.length > 0, 3000);
    registry.chat(0, 'down', 'hi');
    const end = await registry.finished('down');
    expect(end.error).toMatch(/^upstream request failed: .*ECONNREFUSED/);
  });

  it('cancel aborts the upstream request within 1 s and sends nothing more', async () => {
    const registry = await h.newRegistry();
    h.newAgent([registry.url]);
    await eventually(() => registry.frames.length > 0, 3000);
    registry.chat(0, 'long', 'tell me a story [hang]');
    await eventually(() => registry.responses('long').length > 0, 3000);
    const aborted = h.model.nextAbort(1000);
    const sentAt = Date.now();
    registry.send(0, { type: 'cancel', request_id: 'long' });
    const event = await aborted;
    expect(event.at - sentAt).toBeLessThan(1000);
    const count = registry.responses('long').length;
    await delay(100);
    expect(registry.responses('long')).toHaveLength(count);
    expect(registry.responses('long').some((f) => f.done || f.error)).toBe(false);
    expect(h.logger.text()).toContain('request long cancelled');
    expect(h.agent!.inFlight).toBe(0);
  });

  it('refuses requests beyond its concurrency with "host busy"', async () => {
    const registry = await h.newRegistry();
    h.newAgent([registry.url], { concurrency: 2 });
    await eventually(() => registry.frames.length > 0, 3000);
    registry.chat(0, 'a', '[hang]');
    registry.chat(0, 'b', '[hang]');
    registry.chat(0, 'c', '[hang]');
    const end = await registry.finished('c');
    expect(end.error).toBe('host busy');
    expect(h.agent!.inFlight).toBe(2);
    const aborts = eventually(
      () => h.model.aborted.filter((a) => Date.now() - a.at < 2000).length >= 2,
      3000,
    );
    registry.send(0, { type: 'cancel', request_id: 'a' });
    registry.send(0, { type: 'cancel', request_id: 'b' });
    await aborts;
    await eventually(() => h.agent!.inFlight === 0, 3000);
  });

  it('stop(): aborts in-flight requests, tells the registry, closes with 1000', async () => {
    const registry = await h.newRegistry();
    h.newAgent([registry.url]);
    await eventually(() => registry.frames.length > 0, 3000);
    registry.chat(0, 'running', '[hang]');
    await eventually(() => registry.responses('running').length > 0, 3000);
    const aborted = h.model.nextAbort(1000);
    await h.agent!.stop();
    await aborted;
    expect(await h.agent!.finished).toEqual({ kind: 'stopped' });
    expect((await registry.finished('running')).error).toBe('host agent stopped');
    await eventually(() => registry.closes.length === 1, 3000);
    expect(registry.closes[0].code).toBe(1000);
  });
});
