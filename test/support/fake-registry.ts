import { createServer, STATUS_CODES, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import {
  CHUNK_FRAMES_BINARY,
  CHUNK_FRAMES_HEADER,
  decodeChunkFrame,
  decodeHostFrame,
  eventPayloads,
  parseBearerCredentials,
  type ChatResponseFrame,
  type HostToRegistryFrame,
  type RegistryToHostFrame,
} from '@app/protocol';
import { DEFAULT_ENDPOINTS, type HostConfig } from '../../apps/host/src/config';
import { HostAgent } from '../../apps/host/src/host-agent';
import { createMemoryLogger, type MemoryLogger } from '../../apps/host/src/logger';
import { eventually } from './eventually';
import { startFakeModel, type FakeModel } from './fake-model-server';

// A stand-in registry for the host agent's in-process specs, and the harness that starts an agent against it.

export const PASSWORD = 'pw-very-secret-123';
export const INSTANCE = 'inst-1';
/** The replica name the harness's agents run under. */
export const REPLICA = 'replica-1';

export const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Received {
  conn: number;
  frame: HostToRegistryFrame;
  at: number;
}

/** A stand-in registry: authenticates the upgrade like the real one and records frames. */
export class FakeRegistry {
  server!: Server;
  wss!: WebSocketServer;
  port = 0;
  /** Answer upgrades with this HTTP status instead of a socket. */
  rejectWith: number | null = null;
  upgrades: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  sockets: WebSocket[] = [];
  frames: Received[] = [];
  closes: Array<{ conn: number; code: number; reason: string }> = [];
  /** Binary chunk frames received (recorded in `frames` as the `chat_response` they stand for). */
  binaryFrames = 0;

  /** `binaryChunks`: offer binary chunk frames in the upgrade response, as the real registry does. */
  constructor(private readonly options: { autoPong?: boolean; binaryChunks?: boolean } = {}) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((_req, res) => res.writeHead(404).end());
    this.wss = new WebSocketServer({ noServer: true, autoPong: this.options.autoPong ?? true });
    if (this.options.binaryChunks)
      this.wss.on('headers', (headers) => headers.push(`${CHUNK_FRAMES_HEADER}: ${CHUNK_FRAMES_BINARY}`));
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
        ws.on('message', (data, isBinary) => {
          if (isBinary) return this.onBinary(conn, data as Buffer);
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

  /** A binary chunk frame, recorded as the JSON frame it replaces (one line: raw_sse; several: raw_sse_batch). */
  private onBinary(conn: number, data: Buffer): void {
    const hello = this.frames.find((f) => f.conn === conn && f.frame.type === 'hello');
    if (hello?.frame.type !== 'hello' || hello.frame.capabilities?.binary_chunks !== true)
      throw new Error('a binary frame before a hello that accepted them');
    const chunk = decodeChunkFrame(data);
    if (!chunk) throw new Error('a malformed binary chunk frame from the agent');
    this.binaryFrames++;
    const payloads = eventPayloads(chunk.events);
    const frame: ChatResponseFrame = { type: 'chat_response', request_id: chunk.requestId, done: chunk.done };
    if (payloads.length === 1) frame.raw_sse = payloads[0];
    else if (payloads.length > 1) frame.raw_sse_batch = payloads;
    this.frames.push({ conn, frame, at: Date.now() });
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

  /** Resolves with the request's `done` or `error` frame once it arrived. */
  async finished(requestId: string, timeoutMs = 3000): Promise<ChatResponseFrame & { conn: number }> {
    const end = () => this.responses(requestId).find((f) => f.done === true || f.error !== undefined);
    await eventually(() => end() !== undefined, timeoutMs);
    return end()!;
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

export function lines(frames: ChatResponseFrame[]): string[] {
  return frames.flatMap((f) => (f.raw_sse !== undefined ? [f.raw_sse] : (f.raw_sse_batch ?? [])));
}

/** One fake model per spec file (`start`); a fresh agent and fresh registries per test (`cleanUp` after each). */
export class HostAgentHarness {
  model!: FakeModel;
  agent: HostAgent | undefined;
  logger!: MemoryLogger;
  readonly registries: FakeRegistry[] = [];

  async newRegistry(
    options?: { autoPong?: boolean; binaryChunks?: boolean },
    port = 0,
  ): Promise<FakeRegistry> {
    const r = await new FakeRegistry(options).start(port);
    this.registries.push(r);
    return r;
  }

  newAgent(registryUrls: string[], overrides: Partial<HostConfig> = {}): HostAgent {
    this.logger = createMemoryLogger();
    this.agent = new HostAgent(
      {
        registryUrls,
        instanceId: INSTANCE,
        replica: REPLICA,
        password: PASSWORD,
        upstreamUrl: this.model.url,
        concurrency: 4,
        endpoints: [...DEFAULT_ENDPOINTS],
        heartbeatMs: 100,
        pingMs: 200,
        backoffBaseMs: 20,
        backoffCapMs: 200,
        stableMs: 10_000,
        verbose: true,
        pinModel: false,
        maxN: 1,
        allowUpstreamOverrides: false,
        logFormat: 'text',
        // Off unless a test is about it: probes would show in the fake model's request log.
        healthIntervalMs: 0,
        healthPath: '/models',
        healthTimeoutMs: 1_000,
        ...overrides,
      },
      { logger: this.logger, handoffLingerMs: 200 },
    );
    this.agent.start();
    return this.agent;
  }

  async start(): Promise<void> {
    this.model = await startFakeModel({ models: ['m1', 'm2'], chunks: 5 });
  }

  /** Stops this test's agent and registries; returns the agent's log ('' without an agent). */
  async cleanUp(): Promise<string> {
    const agent = this.agent;
    this.agent = undefined;
    await agent?.stop();
    await Promise.all(this.registries.splice(0).map((r) => r.stop()));
    return agent ? this.logger.text() : '';
  }

  async close(): Promise<void> {
    await this.model.close();
  }
}
