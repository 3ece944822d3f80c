import WebSocket from 'ws';
import type { HostToRegistryFrame } from '@app/protocol';
import { Backoff, smallJitter } from '../../apps/host/src/backoff';

/**
 * Many light hosts in one process, speaking the host protocol the way the real agent does:
 * Bearer credentials, `hello`, answers to pings, reconnect with the agent's own full-jitter
 * backoff (the same `Backoff` class), rotating through the registry URLs, at once (small jitter)
 * after `goaway` or 1001/1012. Each chat is answered at once with a few chunks.
 */
export interface SwarmCredentials {
  instanceId: string;
  password: string;
}

export interface SwarmOptions {
  urls: string[];
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** A connection open this long resets the backoff (the agent's HOST_STABLE_MS). */
  stableMs?: number;
  /** Source addresses used in turn (127.0.0.0/8 is all loopback), like hosts on many machines. */
  localAddresses?: string[];
  handshakeTimeoutMs?: number;
}

export type SwarmEvent =
  | { kind: 'dial'; host: number; url: string; at: number }
  | { kind: 'open'; host: number; url: string; at: number }
  | { kind: 'close'; host: number; url: string; at: number; code: number }
  | { kind: 'rejected'; host: number; url: string; at: number; status: number }
  | { kind: 'failed'; host: number; url: string; at: number; error: string };

export class HostSwarm {
  readonly events: SwarmEvent[] = [];
  /** HTTP statuses of refused upgrades, by status. */
  readonly rejected = new Map<number, number>();
  private readonly hosts: SwarmHost[];
  stopped = false;

  constructor(
    credentials: SwarmCredentials[],
    readonly options: SwarmOptions,
  ) {
    this.hosts = credentials.map((c, i) => new SwarmHost(this, i, c));
  }

  /** Dials every host once, spread uniformly over `rampMs`. */
  start(rampMs = 0): void {
    for (const host of this.hosts) host.schedule(Math.floor(Math.random() * rampMs));
  }

  get size(): number {
    return this.hosts.length;
  }

  /** Hosts with an open socket (to `url` if given). */
  connected(url?: string): number {
    return this.hosts.filter((h) => h.isOpen && (url === undefined || h.url === url)).length;
  }

  /** Attempts that never opened a socket (refused, reset, handshake timeout), by message. */
  failures(): Map<string, number> {
    const out = new Map<string, number>();
    for (const e of this.events) if (e.kind === 'failed') out.set(e.error, (out.get(e.error) ?? 0) + 1);
    return out;
  }

  record(event: SwarmEvent): void {
    this.events.push(event);
    if (event.kind === 'rejected')
      this.rejected.set(event.status, (this.rejected.get(event.status) ?? 0) + 1);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.hosts.map((h) => h.stop()));
  }
}

class SwarmHost {
  private ws: WebSocket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private nextUrl = 0;
  private openedAt = 0;
  private goaway = false;
  private readonly backoff: Backoff;
  url = '';

  constructor(
    private readonly swarm: HostSwarm,
    private readonly index: number,
    private readonly credentials: SwarmCredentials,
  ) {
    this.backoff = new Backoff({
      baseMs: swarm.options.backoffBaseMs ?? 500,
      capMs: swarm.options.backoffCapMs ?? 30_000,
    });
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN && !this.goaway;
  }

  schedule(delayMs: number): void {
    if (this.swarm.stopped) return;
    this.timer = setTimeout(() => this.connect(), delayMs);
  }

  private connect(): void {
    this.timer = null;
    if (this.swarm.stopped) return;
    const { urls, localAddresses } = this.swarm.options;
    const url = urls[this.nextUrl++ % urls.length];
    this.url = url;
    this.openedAt = 0;
    this.goaway = false;
    this.swarm.record({ kind: 'dial', host: this.index, url, at: Date.now() });
    const socketUrl = `${url.replace(/^http/, 'ws')}/api/ws/${this.credentials.instanceId}`;
    const ws = new WebSocket(socketUrl, {
      headers: { authorization: `Bearer ${this.credentials.instanceId}:${this.credentials.password}` },
      handshakeTimeout: this.swarm.options.handshakeTimeoutMs ?? 10_000,
      perMessageDeflate: false,
      localAddress: localAddresses?.[this.index % localAddresses.length],
    });
    this.ws = ws;
    let rejectedStatus = 0;
    let lastError = '';
    ws.on('unexpected-response', (_req, res) => {
      rejectedStatus = res.statusCode ?? 0;
      res.resume();
      ws.terminate();
    });
    ws.on('error', (error: Error & { code?: string }) => (lastError = error.code ?? error.message));
    ws.on('open', () => {
      this.openedAt = Date.now();
      this.swarm.record({ kind: 'open', host: this.index, url, at: this.openedAt });
      this.send({
        type: 'hello',
        version: '1.0',
        agent: 'host-swarm',
        capabilities: { concurrency: 4, cancel: true, models: [] },
      });
    });
    ws.on('message', (data) => this.onMessage(data.toString()));
    ws.on('close', (code) => {
      if (this.ws === ws) this.ws = null;
      const at = Date.now();
      if (rejectedStatus)
        this.swarm.record({ kind: 'rejected', host: this.index, url, at, status: rejectedStatus });
      else if (!this.openedAt)
        this.swarm.record({ kind: 'failed', host: this.index, url, at, error: lastError || `close ${code}` });
      else this.swarm.record({ kind: 'close', host: this.index, url, at, code });
      if (this.swarm.stopped || code === 4409 || code === 4404) return;
      if (this.openedAt && at - this.openedAt >= (this.swarm.options.stableMs ?? 10_000))
        this.backoff.reset();
      const soon = this.goaway || code === 1001 || code === 1012;
      this.schedule(soon ? smallJitter(250) : this.backoff.next());
    });
  }

  private onMessage(text: string): void {
    let frame: { type?: string; request_id?: unknown };
    try {
      frame = JSON.parse(text) as typeof frame;
    } catch {
      return;
    }
    if (frame.type === 'goaway') {
      this.goaway = true;
      this.ws?.close(1000, 'moving');
    } else if (frame.type === 'chat' && typeof frame.request_id === 'string') {
      const chunk = (content: string) =>
        JSON.stringify({
          id: 'swarm',
          object: 'chat.completion.chunk',
          created: 0,
          model: 'swarm',
          choices: [{ index: 0, delta: { content }, finish_reason: null }],
        });
      this.send({
        type: 'chat_response',
        request_id: frame.request_id,
        raw_sse_batch: [chunk('swarm'), chunk(' answer')],
      });
      this.send({ type: 'chat_response', request_id: frame.request_id, done: true });
    }
  }

  private send(frame: HostToRegistryFrame): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    ws.terminate();
    await closed;
  }
}
