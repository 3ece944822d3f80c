import { createServer, STATUS_CODES, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import {
  decodeHostFrame,
  parseBearerCredentials,
  type ChatResponseFrame,
  type HelloFrame,
  type HostToRegistryFrame,
  type RegistryToHostFrame,
} from '@app/protocol';
import { startFakeModel, type FakeModel } from '../../../test/support/fake-model-server';
import type { HostConfig } from './config';
import { HostAgent } from './host-agent';
import { createMemoryLogger, type MemoryLogger } from './logger';

const PASSWORD = 'pw-very-secret-123';
const INSTANCE = 'inst-1';

/** Polls until `check` returns a truthy value. */
async function waitFor<T>(
  check: () => T | undefined | null | false,
  timeoutMs = 3000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A local port nothing listens on (bound once, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Received {
  conn: number;
  frame: HostToRegistryFrame;
  at: number;
}

/** A stand-in registry: authenticates the upgrade like the real one and records frames. */
class FakeRegistry {
  server!: Server;
  wss!: WebSocketServer;
  port = 0;
  /** Answer upgrades with this HTTP status instead of a socket. */
  rejectWith: number | null = null;
  upgrades: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  sockets: WebSocket[] = [];
  frames: Received[] = [];
  closes: Array<{ conn: number; code: number; reason: string }> = [];

  constructor(private readonly options: { autoPong?: boolean } = {}) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((_req, res) => res.writeHead(404).end());
    this.wss = new WebSocketServer({ noServer: true, autoPong: this.options.autoPong ?? true });
    this.server.on('upgrade', (req, socket, head) => {
      this.upgrades.push({ url: req.url ?? '', headers: req.headers });
      const creds = parseBearerCredentials(req.headers.authorization);
      const status =
        this.rejectWith ?? (creds?.instanceId === INSTANCE && creds.password === PASSWORD ? null : 401);
      if (status !== null) {
        socket.end(
          `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
        );
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        const conn = this.sockets.push(ws) - 1;
        ws.on('message', (data) => {
          const decoded = decodeHostFrame(data.toString());
          if (!decoded.ok) throw new Error(`bad frame from the agent: ${decoded.reason}`);
          this.frames.push({ conn, frame: decoded.frame, at: Date.now() });
        });
        ws.on('close', (code, reason) => this.closes.push({ conn, code, reason: reason.toString() }));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  send(conn: number, frame: RegistryToHostFrame): void {
    this.sockets[conn].send(JSON.stringify(frame));
  }

  chat(conn: number, requestId: string, content: string, extra: Record<string, unknown> = {}): void {
    this.send(conn, {
      type: 'chat',
      request_id: requestId,
      request: {
        messages: [{ role: 'user', content }],
        stream: true,
        temperature: 0.7,
        max_tokens: 100,
        ...extra,
      },
    });
  }

  responses(requestId: string, conn?: number): Array<ChatResponseFrame & { conn: number }> {
    return this.frames
      .filter((f) => f.frame.type === 'chat_response' && f.frame.request_id === requestId)
      .filter((f) => conn === undefined || f.conn === conn)
      .map((f) => ({ ...(f.frame as ChatResponseFrame), conn: f.conn }));
  }

  /** Resolves once the request got its `done` or `error`. */
  finished(requestId: string, timeoutMs = 3000) {
    return waitFor(
      () => this.responses(requestId).find((f) => f.done === true || f.error !== undefined),
      timeoutMs,
      `end of ${requestId}`,
    );
  }

  async stop(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss?.close();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) =>
      this.server?.listening ? this.server.close(() => resolve()) : resolve(),
    );
  }
}

function lines(frames: ChatResponseFrame[]): string[] {
  return frames.flatMap((f) => (f.raw_sse !== undefined ? [f.raw_sse] : (f.raw_sse_batch ?? [])));
}

describe('HostAgent (in process, against a fake registry and a fake model)', () => {
  let model: FakeModel;
  let agent: HostAgent | undefined;
  let logger: MemoryLogger;
  const registries: FakeRegistry[] = [];

  const newRegistry = async (options?: { autoPong?: boolean }, port = 0) => {
    const r = await new FakeRegistry(options).start(port);
    registries.push(r);
    return r;
  };

  const newAgent = (registryUrls: string[], overrides: Partial<HostConfig> = {}) => {
    logger = createMemoryLogger();
    agent = new HostAgent(
      {
        registryUrls,
        instanceId: INSTANCE,
        password: PASSWORD,
        upstreamUrl: model.url,
        concurrency: 4,
        heartbeatMs: 100,
        pingMs: 200,
        backoffBaseMs: 20,
        backoffCapMs: 200,
        stableMs: 10_000,
        verbose: true,
        pinModel: false,
        maxN: 1,
        allowUpstreamOverrides: false,
        ...overrides,
      },
      { logger, handoffLingerMs: 200 },
    );
    agent.start();
    return agent;
  };

  beforeAll(async () => {
    model = await startFakeModel({ models: ['m1', 'm2'], chunks: 5 });
  });

  afterEach(async () => {
    await agent?.stop();
    // The password must never reach the logs, whatever happened.
    if (agent) expect(logger.text()).not.toContain(PASSWORD);
    agent = undefined;
    await Promise.all(registries.splice(0).map((r) => r.stop()));
  });

  afterAll(async () => {
    await model.close();
  });

  it('connects with the Bearer header and says hello with the upstream models', async () => {
    const registry = await newRegistry();
    newAgent([registry.url]);
    const hello = await waitFor(() => registry.frames.find((f) => f.frame.type === 'hello'));
    expect(hello.frame).toEqual<HelloFrame>({
      type: 'hello',
      version: '1.0',
      agent: 'model-registry-host/0.1',
      capabilities: { concurrency: 4, cancel: true, models: ['m1', 'm2'] },
    });
    // The hello is the first frame, then JSON heartbeats follow.
    expect(registry.frames[0].frame.type).toBe('hello');
    await waitFor(
      () => registry.frames.filter((f) => f.frame.type === 'heartbeat').length >= 2,
      2000,
      'heartbeats',
    );
    const beat = registry.frames.find((f) => f.frame.type === 'heartbeat')!.frame;
    expect(beat).toMatchObject({
      type: 'heartbeat',
      version: '1.0',
      data: { instance_id: INSTANCE, status: 'alive' },
    });

    expect(registry.upgrades[0].url).toBe(`/api/ws/${INSTANCE}`);
    expect(registry.upgrades[0].headers.authorization).toBe(`Bearer ${INSTANCE}:${PASSWORD}`);
    expect(logger.text()).toContain(`connected to ${registry.url} as ${INSTANCE}`);
    expect(agent!.connected).toBe(true);
  });

  it('sends an empty model list when the upstream is down', async () => {
    const registry = await newRegistry();
    newAgent([registry.url], { upstreamUrl: `http://127.0.0.1:${await closedPort()}/v1` });
    const hello = await waitFor(() => registry.frames.find((f) => f.frame.type === 'hello'));
    expect((hello.frame as HelloFrame).capabilities?.models).toEqual([]);
  });

  it('serves a chat: chat_response frames with the SSE lines, then done', async () => {
    const registry = await newRegistry();
    newAgent([registry.url]);
    await waitFor(() => registry.frames.length > 0);
    const before = model.requests.length;
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

    const upstream = model.requests.slice(before).find((r) => r.path === '/v1/chat/completions')!;
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
    await waitFor(() => logger.text().includes('request r1 done in'));
    expect(logger.text()).toContain('serving request r1');
  });

  it('coalesces the lines of one upstream read into one raw_sse_batch frame', async () => {
    const registry = await newRegistry();
    newAgent([registry.url]);
    await waitFor(() => registry.frames.length > 0);
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
      const registry = await newRegistry();
      newAgent([registry.url], { upstreamUrl: slow.url, model: 'default-model' });
      await waitFor(() => registry.frames.length > 0);
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
      await agent?.stop();
      await slow.close();
    }
  });

  it('turns an upstream HTTP error into one error frame and no done', async () => {
    const registry = await newRegistry();
    newAgent([registry.url]);
    await waitFor(() => registry.frames.length > 0);
    registry.chat(0, 'bad', 'please [error500]');
    const end = await registry.finished('bad');
    expect(end.error).toMatch(/^upstream HTTP 500: .*fake model failure/);
    await delay(50);
    expect(registry.responses('bad')).toHaveLength(1);
  });

  it('turns an unreachable upstream into an error frame', async () => {
    const registry = await newRegistry();
    newAgent([registry.url], { upstreamUrl: `http://127.0.0.1:${await closedPort()}/v1` });
    await waitFor(() => registry.frames.length > 0);
    registry.chat(0, 'down', 'hi');
    const end = await registry.finished('down');
    expect(end.error).toMatch(/^upstream request failed: .*ECONNREFUSED/);
  });

  it('cancel aborts the upstream request within 1 s and sends nothing more', async () => {
    const registry = await newRegistry();
    newAgent([registry.url]);
    await waitFor(() => registry.frames.length > 0);
    registry.chat(0, 'long', 'tell me a story [hang]');
    await waitFor(() => registry.responses('long').length > 0, 3000, 'first chunk');
    const aborted = model.nextAbort(1000);
    const sentAt = Date.now();
    registry.send(0, { type: 'cancel', request_id: 'long' });
    const event = await aborted;
    expect(event.at - sentAt).toBeLessThan(1000);
    const count = registry.responses('long').length;
    await delay(100);
    expect(registry.responses('long')).toHaveLength(count);
    expect(registry.responses('long').some((f) => f.done || f.error)).toBe(false);
    expect(logger.text()).toContain('request long cancelled');
    expect(agent!.inFlight).toBe(0);
  });

  it('refuses requests beyond its concurrency with "host busy"', async () => {
    const registry = await newRegistry();
    newAgent([registry.url], { concurrency: 2 });
    await waitFor(() => registry.frames.length > 0);
    registry.chat(0, 'a', '[hang]');
    registry.chat(0, 'b', '[hang]');
    registry.chat(0, 'c', '[hang]');
    const end = await registry.finished('c');
    expect(end.error).toBe('host busy');
    expect(agent!.inFlight).toBe(2);
    const aborts = waitFor(() => model.aborted.filter((a) => Date.now() - a.at < 2000).length >= 2);
    registry.send(0, { type: 'cancel', request_id: 'a' });
    registry.send(0, { type: 'cancel', request_id: 'b' });
    await aborts;
    await waitFor(() => agent!.inFlight === 0);
  });

  it('aborts in-flight upstream requests when the socket drops, then reconnects', async () => {
    const registry = await newRegistry();
    newAgent([registry.url]);
    await waitFor(() => registry.frames.length > 0);
    registry.chat(0, 'dropped', '[hang]');
    await waitFor(() => registry.responses('dropped').length > 0);
    const aborted = model.nextAbort(1000);
    registry.sockets[0].terminate();
    await aborted;
    await waitFor(() => registry.sockets.length === 2, 3000, 'reconnect');
    await waitFor(() => registry.frames.some((f) => f.conn === 1 && f.frame.type === 'hello'));
    expect(logger.text()).toMatch(/disconnected \(code 1006.*\); reconnecting in \d+\.\d s/);
  });

  it('rejected with 401: stops for good with a plain message, without retrying', async () => {
    const registry = await newRegistry();
    registry.rejectWith = 401;
    newAgent([registry.url]);
    const exit = await agent!.finished;
    expect(exit).toEqual({ kind: 'fatal', reason: 'unauthorized', message: 'wrong instance id or password' });
    expect(logger.lines).toContainEqual({ level: 'error', message: 'wrong instance id or password' });
    await delay(100);
    expect(registry.upgrades).toHaveLength(1);
  });

  it('rejected with 404: stops with "instance not found (deleted?)"', async () => {
    const registry = await newRegistry();
    registry.rejectWith = 404;
    newAgent([registry.url]);
    expect(await agent!.finished).toMatchObject({ kind: 'fatal', reason: 'not_found' });
    expect(logger.text()).toContain('instance not found (deleted?)');
  });

  it('rejected with 503: backs off and retries until accepted', async () => {
    const registry = await newRegistry();
    registry.rejectWith = 503;
    newAgent([registry.url]);
    await waitFor(() => registry.upgrades.length >= 3, 3000, 'retries');
    registry.rejectWith = null;
    await waitFor(() => registry.frames.some((f) => f.frame.type === 'hello'), 3000, 'hello');
    expect(logger.text()).toContain('refused the connection (HTTP 503)');
  });

  it('keeps retrying while the registry is down at start and connects once it is up', async () => {
    const port = await closedPort();

    newAgent([`http://127.0.0.1:${port}`]);
    let retries = 0;
    agent!.on('reconnecting', () => retries++);
    await waitFor(() => retries >= 3, 3000, 'retries');
    expect(agent!.connected).toBe(false);
    expect(logger.text()).toContain('ECONNREFUSED');

    const registry = await newRegistry({}, port);
    await waitFor(() => registry.frames.some((f) => f.frame.type === 'hello'), 3000, 'hello');
    expect(agent!.connected).toBe(true);
  });

  it('closed with 4409 (superseded): exits without fighting for the instance', async () => {
    const registry = await newRegistry();
    newAgent([registry.url]);
    await waitFor(() => registry.frames.length > 0);
    registry.sockets[0].close(4409, 'superseded');
    expect(await agent!.finished).toMatchObject({ kind: 'fatal', reason: 'superseded' });
    expect(logger.text()).toContain('another agent connected with this instance id and took over');
    await delay(100);
    expect(registry.upgrades).toHaveLength(1);
  });

  it('closed with 4404 (unregistered): exits', async () => {
    const registry = await newRegistry();
    newAgent([registry.url]);
    await waitFor(() => registry.frames.length > 0);
    registry.sockets[0].close(4404, 'unregistered');
    expect(await agent!.finished).toMatchObject({ kind: 'fatal', reason: 'unregistered' });
  });

  it('closed with 4401 (password rotated): exits and says the password changed', async () => {
    const registry = await newRegistry();
    newAgent([registry.url]);
    await waitFor(() => registry.frames.length > 0);
    registry.sockets[0].close(4401, 'the instance password was changed');
    expect(await agent!.finished).toMatchObject({ kind: 'fatal', reason: 'unauthorized' });
    expect(logger.text()).toContain('the instance password was changed');
    await delay(100);
    expect(registry.upgrades).toHaveLength(1);
  });

  it('closed with 1012 (service restart): reconnects at once to the next registry', async () => {
    const a = await newRegistry();
    const b = await newRegistry();
    newAgent([a.url, b.url], { backoffBaseMs: 5000, backoffCapMs: 5000 });
    await waitFor(() => a.frames.length > 0);
    const closedAt = Date.now();
    a.sockets[0].close(1012, 'restart');
    await waitFor(() => b.frames.some((f) => f.frame.type === 'hello'), 2000, 'hello on b');
    // Well under the 5 s backoff: only the 0-250 ms jitter applies.
    expect(Date.now() - closedAt).toBeLessThan(1000);
  });

  it('goaway: reconnects to the next registry at once and finishes in-flight streams on the old socket', async () => {
    const slow = await startFakeModel({ chunks: 5, delayMs: 60 });
    try {
      const a = await newRegistry();
      const b = await newRegistry();
      newAgent([a.url, b.url], { upstreamUrl: slow.url, backoffBaseMs: 5000, backoffCapMs: 5000 });
      await waitFor(() => a.frames.length > 0);
      a.chat(0, 'inflight', 'hi');
      await waitFor(() => a.responses('inflight').length > 0);
      const sentAt = Date.now();
      a.send(0, { type: 'goaway', reason: 'draining' });

      // The new connection is up on b while the old stream still runs on a.
      await waitFor(() => b.frames.some((f) => f.frame.type === 'hello'), 1000, 'hello on b');
      expect(Date.now() - sentAt).toBeLessThan(1000);
      expect(a.closes).toHaveLength(0);

      const end = await a.finished('inflight');
      expect(end.done).toBe(true);
      // Five content chunks, the finish chunk and the usage chunk the agent asks for.
      expect(lines(a.responses('inflight'))).toHaveLength(7);
      expect(b.responses('inflight')).toHaveLength(0);
      // Then the drained socket is closed normally.
      await waitFor(() => a.closes.length === 1, 2000, 'old socket closed');
      expect(a.closes[0].code).toBe(1000);

      // New requests go over the new socket.
      b.chat(0, 'after', 'hi');
      expect((await b.finished('after')).done).toBe(true);
      expect(logger.text()).toContain('is going away (draining)');
    } finally {
      await agent?.stop();
      await slow.close();
    }
  });

  it('drops a link whose pings go unanswered and reconnects', async () => {
    const registry = await newRegistry({ autoPong: false });
    newAgent([registry.url], { pingMs: 50 });
    await waitFor(() => registry.sockets.length >= 2, 3000, 'reconnect after missing pongs');
    expect(logger.text()).toContain('no answer to ping');
  });

  it('stop(): aborts in-flight requests, tells the registry, closes with 1000', async () => {
    const registry = await newRegistry();
    newAgent([registry.url]);
    await waitFor(() => registry.frames.length > 0);
    registry.chat(0, 'running', '[hang]');
    await waitFor(() => registry.responses('running').length > 0);
    const aborted = model.nextAbort(1000);
    await agent!.stop();
    await aborted;
    expect(await agent!.finished).toEqual({ kind: 'stopped' });
    expect((await registry.finished('running')).error).toBe('host agent stopped');
    await waitFor(() => registry.closes.length === 1);
    expect(registry.closes[0].code).toBe(1000);
  });
});
