import { getEventListeners } from 'node:events';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Cancellation } from './cancellation';
import { describeUpstreamError, Upstream } from './upstream';

describe('Upstream.listModels', () => {
  let server: Server | undefined;
  let upstream: Upstream | undefined;

  const start = async (handler: RequestListener, modelsTimeoutMs?: number) => {
    server = createServer(handler);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    upstream = new Upstream({ baseUrl: `http://127.0.0.1:${port}/v1/`, apiKey: 'k', modelsTimeoutMs });
    return upstream;
  };

  afterEach(async () => {
    upstream?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server?.listening ? server.close(() => resolve()) : resolve()));
    server = upstream = undefined;
  });

  it('lists the model ids of GET /models, with the API key', async () => {
    const seen: Array<{ url?: string; auth?: string }> = [];
    const up = await start((req, res) => {
      seen.push({ url: req.url, auth: req.headers.authorization });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ data: [{ id: 'a' }, { id: '' }, { nope: 1 }, { id: 'b' }] }));
    });
    expect(up.baseUrl).toMatch(/\/v1$/);
    expect(await up.listModels()).toEqual(['a', 'b']);
    expect(seen).toEqual([{ url: '/v1/models', auth: 'Bearer k' }]);
  });

  it('throws on an HTTP error, a body without a data list and a timeout', async () => {
    let mode = 'error';
    const up = await start((_req, res) => {
      if (mode === 'error') res.writeHead(500).end('no');
      else if (mode === 'empty') res.end('{}');
      // 'hang': no answer
    }, 100);
    await expect(up.listModels()).rejects.toThrow('GET /models answered HTTP 500');
    mode = 'empty';
    await expect(up.listModels()).rejects.toThrow('GET /models answered without a data list');
    mode = 'hang';
    await expect(up.listModels()).rejects.toThrow('no answer within 100 ms');
  });
});

describe('Upstream.chatCompletions, cancelled', () => {
  let server: Server | undefined;
  let upstream: Upstream | undefined;

  afterEach(async () => {
    upstream?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server?.listening ? server.close(() => resolve()) : resolve()));
    server = upstream = undefined;
  });

  /** A model that writes one event, then waits for `release` before the rest. */
  const start = async () => {
    const closed: boolean[] = [];
    let release = () => {};
    server = createServer((req, res) => {
      const index = closed.push(false) - 1;
      res.on('close', () => (closed[index] = !res.writableFinished));
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write('data: {"n":1}\n\n');
      release = () => res.end('data: [DONE]\n\n');
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    upstream = new Upstream({ baseUrl: `http://127.0.0.1:${port}/v1` });
    return { closed, release: () => release() };
  };

  const readToEnd = (body: NodeJS.ReadableStream) =>
    new Promise<void>((resolve, reject) => {
      body.on('data', () => undefined);
      body.on('end', resolve);
      body.on('error', reject);
    });

  it('mid-answer: the model server sees its connection close at once', async () => {
    const model = await start();
    const cancel = new Cancellation();
    const res = await upstream!.chatCompletions({ model: 'm' }, cancel);
    const failed = new Promise((resolve) => res.body.on('close', () => resolve(res.body.readableEnded)));
    cancel.abort();
    expect(await failed).toBe(false);
    await eventuallyTrue(() => model.closed[0] === true);
  });

  it('already cancelled: nothing is sent', async () => {
    const model = await start();
    const cancel = new Cancellation();
    cancel.abort();
    await expect(upstream!.chatCompletions({ model: 'm' }, cancel)).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(model.closed).toEqual([]);
  });

  it('once the answer ended, lets go of the signal (its listener is removed)', async () => {
    const model = await start();
    const first = new AbortController();
    const res = await upstream!.chatCompletions({ model: 'm' }, first.signal);
    expect(getEventListeners(first.signal, 'abort')).toHaveLength(1);
    model.release();
    await readToEnd(res.body);
    await eventuallyTrue(() => getEventListeners(first.signal, 'abort').length === 0);
    first.abort();
    const next = await upstream!.chatCompletions({ model: 'm' }, new Cancellation());
    model.release();
    await readToEnd(next.body);
    expect(model.closed).toEqual([false, false]);
  });
});

async function eventuallyTrue(check: () => boolean, ms = 1000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('describeUpstreamError', () => {
  it('describes node:http, node:net and fetch errors', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1234'), { code: 'ECONNREFUSED' });
    expect(describeUpstreamError(refused)).toBe('connect ECONNREFUSED 127.0.0.1:1234');
    const hangUp = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(describeUpstreamError(hangUp)).toBe('socket hang up (ECONNRESET)');
    const v6 = Object.assign(new Error('connect ECONNREFUSED ::1:1234'), { code: 'ECONNREFUSED' });
    const all = Object.assign(new AggregateError([v6, refused], ''), { code: 'ECONNREFUSED' });
    expect(describeUpstreamError(all)).toBe(
      'connect ECONNREFUSED ::1:1234; connect ECONNREFUSED 127.0.0.1:1234',
    );
    const fetchError = new TypeError('fetch failed', { cause: refused });
    expect(describeUpstreamError(fetchError)).toBe('fetch failed: connect ECONNREFUSED 127.0.0.1:1234');
    expect(describeUpstreamError('x')).toBe('x');
  });
});
