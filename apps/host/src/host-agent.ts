import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import {
  PROTOCOL_VERSION,
  type ChatFrame,
  type HelloFrame,
  type HttpRequestFrame,
  type RegistryToHostFrame,
} from '@app/protocol';
import { Backoff } from './backoff';
import { serveChat } from './chat-handler';
import type { HostConfig } from './config';
import { RegistryConnection, type ConnectionEnd } from './connection';
import { DrainHandoff } from './drain-handoff';
import { InFlightTable } from './in-flight-table';
import { silentLogger, type Logger } from './logger';
import { ModelDiscovery } from './model-discovery';
import { ModelHealth } from './model-health';
import {
  decideReconnect,
  type AgentExit,
  type GoawayEvent,
  type ReconnectPolicy,
} from './reconnect-decision';
import { serveHttp } from './passthrough/serve-http';
import { applyRequestPolicy } from './request-policy';
import { Upstream } from './upstream';

export const AGENT_NAME = 'model-registry-host/0.1';

export interface HostAgentOptions {
  logger?: Logger;
  /** Randomness for backoff and jitter; injectable for tests. */
  random?: () => number;
  /** WebSocket handshake timeout (default 10 s). */
  handshakeTimeoutMs?: number;
  /**
   * After `goaway` and a new connection's hello, how long the old socket may stay before the agent
   * closes it itself (once idle). The registry normally closes it first, as soon as the new
   * connection has claimed the instance (4409); this is only the fallback (default 10 s, longer than
   * the registry's own DRAIN_HANDOFF_MS, so closing never opens a gap in presence).
   */
  handoffLingerMs?: number;
}

/** What the reconnect loop learns when the current connection stops being the current one. */
type LoopEvent = ConnectionEnd | GoawayEvent | { kind: 'stop' };

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * The host agent: holds one WebSocket to the registry (rotating through the configured URLs on
 * reconnect), says hello, serves chats against the upstream model server, and reconnects
 * forever with backoff, until stopped or refused for good (see decideReconnect).
 *
 * Events: `connected` (registryUrl), `hello` (HelloFrame), `model-status` (ProbeOutcome sent), `disconnected` (ConnectionEnd of an
 * open socket), `reconnecting` ({delayMs, reason}), `request` (id), `request-end` (id, outcome
 * kind: done | error | aborted), `exit` (AgentExit).
 */
export class HostAgent extends EventEmitter {
  readonly config: HostConfig;
  private readonly logger: Logger;
  private readonly upstream: Upstream;
  private readonly models: ModelDiscovery;
  /** Null with --health-interval 0: no probe, no `health` capability. */
  private readonly health: ModelHealth | null;
  private readonly reconnect: ReconnectPolicy;
  private readonly handshakeTimeoutMs: number;
  private readonly handoff: DrainHandoff<RegistryConnection>;
  private readonly connections = new Set<RegistryConnection>();
  private readonly requests = new InFlightTable<RegistryConnection>();
  private active: RegistryConnection | null = null;
  private loopWake: ((event: LoopEvent) => void) | null = null;
  private nextUrl = 0;
  private started = false;
  private stopping = false;
  private exitValue: AgentExit | null = null;
  private resolveFinished!: (exit: AgentExit) => void;
  /** Resolves once the agent has stopped for good and closed its sockets. */
  readonly finished: Promise<AgentExit>;
  /** Counters, for tests and the curious. */
  readonly stats = { connects: 0, served: 0, failed: 0, cancelled: 0, refusedBusy: 0 };

  constructor(config: HostConfig, options: HostAgentOptions = {}) {
    super();
    this.config = config;
    this.logger = options.logger ?? silentLogger;
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
    this.upstream = new Upstream({ baseUrl: config.upstreamUrl, apiKey: config.upstreamKey });
    this.models = new ModelDiscovery(this.upstream, this.logger, config.model);
    this.health =
      config.healthIntervalMs > 0
        ? new ModelHealth({
            probe: (signal) => this.upstream.probe(config.healthPath, config.healthTimeoutMs, signal),
            intervalMs: config.healthIntervalMs,
            upstreamUrl: config.upstreamUrl,
            logger: this.logger,
            report: () => this.reportModelStatus(this.active),
          })
        : null;
    const random = options.random ?? Math.random;
    this.reconnect = {
      backoff: new Backoff({ baseMs: config.backoffBaseMs, capMs: config.backoffCapMs, random }),
      stableMs: config.stableMs,
      backoffCapMs: config.backoffCapMs,
      random,
    };
    this.handoff = new DrainHandoff({
      lingerMs: options.handoffLingerMs ?? 10_000,
      busy: (conn) => this.requests.busyOn(conn),
    });
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
  }

  /** True while a socket to the registry is open and current. */
  get connected(): boolean {
    return this.active?.isOpen ?? false;
  }

  get inFlight(): number {
    return this.requests.size;
  }

  /** Starts connecting; returns at once. Watch `finished` for the end. */
  start(): void {
    if (this.started) return;
    this.started = true;
    void this.health?.start();
    this.run().catch((err: unknown) => {
      const message = `agent loop failed: ${(err as Error)?.stack ?? String(err)}`;
      this.logger.error(message);
      void this.shutdown({ kind: 'fatal', reason: 'internal', message });
    });
  }

  /** Aborts in-flight requests, closes the sockets with 1000 and resolves once all is closed. */
  async stop(): Promise<void> {
    await this.shutdown({ kind: 'stopped' });
  }

  // ---- the reconnect loop ----

  private async run(): Promise<void> {
    while (!this.stopping) {
      const urls = this.config.registryUrls;
      const registryUrl = urls[this.nextUrl % urls.length];
      this.nextUrl = (this.nextUrl + 1) % urls.length;

      const event = await this.connectOnce(registryUrl);
      if (this.stopping || event.kind === 'stop') break;

      const next = decideReconnect(registryUrl, event, this.reconnect);
      if (next.kind === 'exit') {
        this.logger.error(next.exit.message);
        await this.shutdown(next.exit);
        return;
      }
      this.logger.info(`${next.what}; reconnecting in ${seconds(next.delayMs)}`);
      this.emit('reconnecting', { delayMs: next.delayMs, reason: next.what });
      if ((await this.sleep(next.delayMs)) === 'stop') break;
    }
    await this.shutdown({ kind: 'stopped' });
  }

  /** Dials one registry URL and resolves when that socket is no longer the current one. */
  private connectOnce(registryUrl: string): Promise<LoopEvent> {
    return new Promise<LoopEvent>((resolve) => {
      this.loopWake = resolve;
      // The upstream's models are fetched while the socket dials, so the hello is not delayed.
      const models = this.models.fetch();
      const conn = new RegistryConnection({
        registryUrl,
        instanceId: this.config.instanceId,
        password: this.config.password,
        replica: this.config.replica,
        heartbeatMs: this.config.heartbeatMs,
        pingMs: this.config.pingMs,
        handshakeTimeoutMs: this.handshakeTimeoutMs,
        logger: this.logger,
        handlers: {
          onOpen: (c) => void this.onOpen(c, models),
          onFrame: (c, frame) => this.onFrame(c, frame),
          onEnd: (c, end) => this.onEnd(c, end),
        },
      });
      this.connections.add(conn);
      this.active = conn;
    });
  }

  private wakeLoop(event: LoopEvent): void {
    const wake = this.loopWake;
    this.loopWake = null;
    wake?.(event);
  }

  private sleep(ms: number): Promise<'slept' | 'stop'> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.loopWake = null;
        resolve('slept');
      }, ms);
      this.loopWake = () => {
        clearTimeout(timer);
        resolve('stop');
      };
    });
  }

  // ---- one connection ----

  private async onOpen(conn: RegistryConnection, models: Promise<string[]>): Promise<void> {
    this.stats.connects++;
    this.logger.info(
      `connected to ${conn.registryUrl} as ${this.config.instanceId} (replica ${this.config.replica})`,
    );
    this.emit('connected', conn.registryUrl);
    const list = await models;
    if (!conn.isOpen) return;
    const hello: HelloFrame = {
      type: 'hello',
      version: PROTOCOL_VERSION,
      agent: AGENT_NAME,
      replica: this.config.replica,
      capabilities: {
        concurrency: this.config.concurrency,
        cancel: true,
        ...(this.health && { health: true }),
        ...(conn.chunkFramesOffered && { binary_chunks: true }),
        // With a pinned model, callers listing models see the only one they will get.
        models: this.config.pinModel && this.config.model ? [this.config.model] : list,
        endpoints: [...this.config.endpoints],
      },
    };
    // Chats that came before the hello (the model list was still loading) keep JSON frames until here.
    if (conn.send(hello) && conn.chunkFramesOffered) conn.binaryChunks = true;
    this.reportModelStatus(conn);
    conn.sendHeartbeat();
    this.emit('hello', hello);
    this.handoff.tookOver(conn);
  }

  /** The model server's last known health, to the registry (after each hello, and on each change). */
  private reportModelStatus(conn: RegistryConnection | null): void {
    const outcome = this.health?.current;
    if (!outcome || !conn?.isOpen) return;
    conn.send({ type: 'model_status', status: outcome.status, detail: outcome.detail });
    this.emit('model-status', outcome);
  }

  private onFrame(conn: RegistryConnection, frame: RegistryToHostFrame): void {
    switch (frame.type) {
      case 'chat':
        this.onChat(conn, frame);
        return;
      case 'http_request':
        this.onHttpRequest(conn, frame);
        return;
      case 'cancel': {
        const entry = this.requests.cancel(frame.request_id, conn);
        if (!entry) return; // already over
        this.stats.cancelled++;
        this.logger.info(`request ${entry.id} cancelled`);
        this.handoff.chatEnded(conn);
        return;
      }
      case 'goaway':
        // Make-before-break: the old socket keeps serving until a newer one took over (DrainHandoff).
        if (conn !== this.active) return;
        this.handoff.drain(conn);
        this.active = null;
        this.wakeLoop({ kind: 'goaway', reason: frame.reason, openForMs: conn.openForMs });
        return;
      case 'heartbeat_ack':
        return;
    }
  }

  private onEnd(conn: RegistryConnection, end: ConnectionEnd): void {
    this.connections.delete(conn);
    this.handoff.forget(conn);
    for (const entry of this.requests.abortOn(conn)) {
      if (!this.stopping) this.logger.warn(`request ${entry.id} aborted: connection to the registry lost`);
    }
    if (end.kind === 'closed') this.emit('disconnected', end);
    if (conn === this.active) {
      this.active = null;
      this.wakeLoop(end);
    } else if (end.kind === 'closed' && !this.stopping) {
      this.logger.debug(`previous connection to ${conn.registryUrl} closed (code ${end.code})`);
    }
  }

  // ---- chats ----

  private onChat(conn: RegistryConnection, frame: ChatFrame): void {
    const id = frame.request_id;
    if (this.requests.has(id)) {
      this.logger.warn(`ignored a second chat with request id ${id}`);
      return;
    }
    if (this.stopping) {
      conn.send({ type: 'chat_response', request_id: id, error: 'host agent stopping' });
      return;
    }
    if (this.requests.size >= this.config.concurrency) {
      this.stats.refusedBusy++;
      this.logger.warn(`request ${id} refused: host busy (${this.requests.size} in flight)`);
      conn.send({ type: 'chat_response', request_id: id, error: 'host busy' });
      return;
    }
    const entry = this.requests.add(id, conn);
    const debug = this.logger.debugEnabled;
    const { body, changes } = applyRequestPolicy(frame.request as Record<string, unknown>, this.config);
    if (debug) {
      this.logger.debug(`serving request ${id}`);
      if (changes.length > 0) this.logger.debug(`request ${id}: ${changes.join('; ')}`);
    }
    this.emit('request', id);
    void serveChat({
      requestId: id,
      request: body,
      upstream: this.upstream,
      defaultModel: this.config.model ?? this.models.known[0],
      sink: conn,
      signal: entry.cancellation,
      onFirstChunk: debug
        ? () =>
            this.logger.debug(
              `request ${id}: first chunk after ${(performance.now() - entry.startedAt).toFixed(1)} ms`,
            )
        : undefined,
    }).then((outcome) => {
      this.requests.finished(entry);
      if (outcome.kind === 'done') {
        this.stats.served++;
        if (debug) {
          this.logger.debug(`request ${id} done in ${Math.round(performance.now() - entry.startedAt)} ms`);
        }
      } else if (outcome.kind === 'error') {
        this.stats.failed++;
        // The model server may have just gone: the registry learns it within a second, not an interval.
        this.health?.chatFailed();
        const ms = Math.round(performance.now() - entry.startedAt);
        this.logger.warn(`request ${id} failed after ${ms} ms: ${outcome.message}`);
      }
      this.emit('request-end', id, outcome.kind);
      this.handoff.chatEnded(conn);
    });
  }

  /** Another endpoint (embeddings, completions, ...): served like a chat, answered with http_response_*. */
  private onHttpRequest(conn: RegistryConnection, frame: HttpRequestFrame): void {
    const id = frame.request_id;
    if (this.requests.has(id)) return this.logger.warn(`ignored a second request with id ${id}`);
    const refusal = this.stopping
      ? 'host agent stopping'
      : this.requests.size >= this.config.concurrency
        ? 'host busy'
        : null;
    if (refusal) {
      conn.send({ type: 'http_response_end', request_id: id, error: refusal });
      return;
    }
    const entry = this.requests.add(id, conn);
    this.emit('request', id);
    this.logger.debug(`serving request ${id} (${frame.path})`);
    void serveHttp({
      frame,
      upstream: this.upstream,
      policy: this.config,
      served: this.config.endpoints,
      sink: conn,
      signal: entry.cancellation,
    }).then((outcome) => {
      this.requests.finished(entry);
      if (outcome.kind === 'done') this.stats.served++;
      else if (outcome.kind === 'error') {
        this.stats.failed++;
        this.logger.warn(`request ${id} (${frame.path}) failed: ${outcome.message}`);
      }
      this.emit('request-end', id, outcome.kind);
      this.handoff.chatEnded(conn);
    });
  }

  // ---- the end ----

  private async shutdown(exit: AgentExit): Promise<void> {
    if (this.exitValue) {
      await this.finished;
      return;
    }
    this.exitValue = exit;
    this.stopping = true;
    this.models.stop();
    this.health?.stop();
    const message = exit.kind === 'stopped' ? 'host agent stopped' : `host agent exiting: ${exit.message}`;
    for (const entry of this.requests.abortAll()) {
      entry.conn.send({ type: 'chat_response', request_id: entry.id, error: message });
      this.logger.info(`request ${entry.id} aborted: ${message}`);
    }
    await Promise.all(
      [...this.connections].map((c) => c.close(1000, exit.kind === 'stopped' ? 'host stopping' : '')),
    );
    this.active = null;
    this.upstream.close();
    this.wakeLoop({ kind: 'stop' });
    if (exit.kind === 'stopped' && this.started) this.logger.info('stopped');
    this.emit('exit', exit);
    this.resolveFinished(exit);
  }
}
