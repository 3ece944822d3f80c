import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import {
  CloseCodes,
  PROTOCOL_VERSION,
  type ChatFrame,
  type HelloFrame,
  type RegistryToHostFrame,
} from '@app/protocol';
import { Backoff, smallJitter } from './backoff';
import { serveChat } from './chat-handler';
import { redactUrl } from '@app/common';
import type { HostConfig } from './config';
import { RegistryConnection, type ConnectionEnd } from './connection';
import { silentLogger, type Logger } from './logger';
import { applyRequestPolicy } from './request-policy';
import { describeUpstreamError, Upstream } from './upstream';

export const AGENT_NAME = 'model-registry-host/0.1';

/** Why the agent stopped for good. */
export type AgentExit =
  | { kind: 'stopped' }
  | {
      kind: 'fatal';
      reason: 'unauthorized' | 'not_found' | 'superseded' | 'unregistered' | 'internal';
      message: string;
    };

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

interface InFlight {
  id: string;
  conn: RegistryConnection;
  controller: AbortController;
  startedAt: number;
}

/** What the reconnect loop learns when the current connection stops being the current one. */
type LoopEvent = ConnectionEnd | GoawayEvent | { kind: 'stop' };
type GoawayEvent = { kind: 'goaway'; reason: string; openForMs: number };

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * The host agent: holds one WebSocket to the registry (rotating through the configured URLs on
 * reconnect), says hello, serves chats against the upstream model server, and reconnects
 * forever with backoff, until stopped or refused for good (bad credentials, instance deleted,
 * taken over).
 *
 * Events: `connected` (registryUrl), `hello` (HelloFrame), `disconnected` (ConnectionEnd of an
 * open socket), `reconnecting` ({delayMs, reason}), `request` (id), `request-end` (id, outcome
 * kind: done | error | aborted), `exit` (AgentExit).
 */
export class HostAgent extends EventEmitter {
  readonly config: HostConfig;
  private readonly logger: Logger;
  private readonly random: () => number;
  private readonly upstream: Upstream;
  private readonly backoff: Backoff;
  private readonly handshakeTimeoutMs: number;
  private readonly handoffLingerMs: number;
  private readonly connections = new Set<RegistryConnection>();
  private readonly requests = new Map<string, InFlight>();
  private active: RegistryConnection | null = null;
  private loopWake: ((event: LoopEvent) => void) | null = null;
  private models: string[] = [];
  private modelsFailing = false;
  private modelsAbort: AbortController | null = null;
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
    this.random = options.random ?? Math.random;
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
    this.handoffLingerMs = options.handoffLingerMs ?? 10_000;
    this.upstream = new Upstream({ baseUrl: config.upstreamUrl, apiKey: config.upstreamKey });
    this.backoff = new Backoff({
      baseMs: config.backoffBaseMs,
      capMs: config.backoffCapMs,
      random: this.random,
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

      const next = this.decide(registryUrl, event);
      if (next.fatal) {
        this.logger.error(next.fatal.message);
        await this.shutdown(next.fatal);
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
      const models = this.fetchModels();
      const conn = new RegistryConnection({
        registryUrl,
        instanceId: this.config.instanceId,
        password: this.config.password,
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

  private decide(
    registryUrl: string,
    event: ConnectionEnd | GoawayEvent,
  ): { fatal?: AgentExit & { kind: 'fatal' }; delayMs: number; what: string } {
    const fatal = (reason: (AgentExit & { kind: 'fatal' })['reason'], message: string) => ({
      fatal: { kind: 'fatal' as const, reason, message },
      delayMs: 0,
      what: message,
    });
    // Moving to another node at once: only a small jitter, so a drained node's hosts spread out.
    const soon = (what: string) => ({ delayMs: smallJitter(250, this.random), what });

    switch (event.kind) {
      case 'goaway':
        if (event.openForMs >= this.config.stableMs) this.backoff.reset();
        return soon(`registry ${registryUrl} is going away${event.reason ? ` (${event.reason})` : ''}`);
      case 'rejected':
        if (event.status === 401) return fatal('unauthorized', 'wrong instance id or password');
        if (event.status === 404) return fatal('not_found', 'instance not found (deleted?)');
        return {
          // Respect Retry-After (429/503) but never wait longer than the backoff cap.
          delayMs: Math.max(this.backoff.next(), Math.min(event.retryAfterMs ?? 0, this.config.backoffCapMs)),
          what:
            `registry ${registryUrl} refused the connection (HTTP ${event.status})` +
            (event.location ? ` with a redirect to ${redactUrl(event.location)}: is --registry right?` : ''),
        };
      case 'failed':
        return { delayMs: this.backoff.next(), what: `cannot connect to ${registryUrl}: ${event.error}` };
      case 'closed': {
        if (event.code === CloseCodes.Superseded) {
          return fatal(
            'superseded',
            'another agent connected with this instance id and took over; exiting (only one agent per instance)',
          );
        }
        if (event.code === CloseCodes.CredentialsRotated) {
          return fatal(
            'unauthorized',
            'the instance password was changed (re-registered); restart with the new password; exiting',
          );
        }
        if (event.code === CloseCodes.Unregistered) {
          return fatal('unregistered', 'the instance was unregistered (deleted) on the registry; exiting');
        }
        // Reset only after the connection proved stable, not on open: a node that accepts and
        // then drops us at once (crash loop, overload) would otherwise be redialled every few
        // hundred ms forever. A link that held for a while starts over with short delays.
        if (event.openForMs >= this.config.stableMs) this.backoff.reset();
        const detail = `code ${event.code}${event.reason ? `, ${event.reason}` : ''}${event.error ? `, ${event.error}` : ''}`;
        if (event.code === CloseCodes.GoingAway || event.code === CloseCodes.ServiceRestart) {
          return soon(`disconnected (${detail})`);
        }
        return { delayMs: this.backoff.next(), what: `disconnected (${detail})` };
      }
    }
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

  private async fetchModels(): Promise<string[]> {
    const abort = new AbortController();
    this.modelsAbort = abort;
    try {
      const models = await this.upstream.listModels(abort.signal);
      if (this.modelsFailing || this.models.join() !== models.join()) {
        this.logger.info(`upstream models: ${models.length > 0 ? models.join(', ') : '(none)'}`);
      }
      this.modelsFailing = false;
      this.models = models;
      return models;
    } catch (err) {
      // Said once per streak of failures, not on every reconnect attempt.
      const message = `could not list the upstream's models at ${this.upstream.baseUrl}/models: ${describeUpstreamError(err)}`;
      if (this.stopping) return [];
      if (this.modelsFailing) this.logger.debug(message);
      else this.logger.warn(message);
      this.modelsFailing = true;
      return [];
    }
  }

  // ---- one connection ----

  private async onOpen(conn: RegistryConnection, models: Promise<string[]>): Promise<void> {
    this.stats.connects++;
    this.logger.info(`connected to ${conn.registryUrl} as ${this.config.instanceId}`);
    this.emit('connected', conn.registryUrl);
    const list = await models;
    if (!conn.isOpen) return;
    const hello: HelloFrame = {
      type: 'hello',
      version: PROTOCOL_VERSION,
      agent: AGENT_NAME,
      capabilities: {
        concurrency: this.config.concurrency,
        cancel: true,
        // With a pinned model, callers listing models see the only one they will get.
        models: this.config.pinModel && this.config.model ? [this.config.model] : list,
      },
    };
    conn.send(hello);
    conn.sendHeartbeat();
    this.emit('hello', hello);
    this.releaseDrained(conn);
  }

  private onFrame(conn: RegistryConnection, frame: RegistryToHostFrame): void {
    switch (frame.type) {
      case 'chat':
        this.onChat(conn, frame);
        return;
      case 'cancel': {
        const entry = this.requests.get(frame.request_id);
        if (!entry || entry.conn !== conn) return; // already over
        this.requests.delete(entry.id);
        entry.controller.abort();
        this.stats.cancelled++;
        this.logger.info(`request ${entry.id} cancelled`);
        this.afterRequest(conn);
        return;
      }
      case 'goaway':
        // Make-before-break: the old socket keeps serving (the registry may still route chats to
        // it) until the new connection has taken over; see releaseDrained.
        if (conn !== this.active) return;
        conn.draining = true;
        this.active = null;
        this.wakeLoop({ kind: 'goaway', reason: frame.reason, openForMs: conn.openForMs });
        return;
      case 'heartbeat_ack':
        return;
    }
  }

  private onEnd(conn: RegistryConnection, end: ConnectionEnd): void {
    this.connections.delete(conn);
    // The socket is gone: nothing of its requests can reach the caller any more.
    for (const entry of [...this.requests.values()]) {
      if (entry.conn !== conn) continue;
      this.requests.delete(entry.id);
      entry.controller.abort();
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

  /**
   * After a new connection said hello, the sockets that got `goaway` are let go: the registry
   * normally closes them itself once the new connection took the instance over (4409); if it
   * does not, each is closed by us once its last stream ended, `handoffLingerMs` later. Closing
   * sooner could release the old presence record before the new node has claimed it.
   */
  private releaseDrained(current: RegistryConnection): void {
    for (const conn of this.connections) {
      if (conn === current || !conn.draining || conn.handedOver) continue;
      setTimeout(() => {
        conn.handedOver = true;
        this.afterRequest(conn);
      }, this.handoffLingerMs).unref();
    }
  }

  /** Closes a socket that was handed over once its last stream ended. */
  private afterRequest(conn: RegistryConnection): void {
    if (!conn.draining || !conn.handedOver || !conn.isOpen) return;
    for (const entry of this.requests.values()) if (entry.conn === conn) return;
    void conn.close(1000, 'drained');
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
    const entry: InFlight = { id, conn, controller: new AbortController(), startedAt: performance.now() };
    this.requests.set(id, entry);
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
      defaultModel: this.config.model ?? this.models[0],
      sink: conn,
      signal: entry.controller.signal,
      onFirstChunk: debug
        ? () =>
            this.logger.debug(
              `request ${id}: first chunk after ${(performance.now() - entry.startedAt).toFixed(1)} ms`,
            )
        : undefined,
    }).then((outcome) => {
      if (this.requests.get(id) === entry) this.requests.delete(id);
      if (outcome.kind === 'done') {
        this.stats.served++;
        if (debug) {
          this.logger.debug(`request ${id} done in ${Math.round(performance.now() - entry.startedAt)} ms`);
        }
      } else if (outcome.kind === 'error') {
        this.stats.failed++;
        const ms = Math.round(performance.now() - entry.startedAt);
        this.logger.warn(`request ${id} failed after ${ms} ms: ${outcome.message}`);
      }
      this.emit('request-end', id, outcome.kind);
      this.afterRequest(conn);
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
    this.modelsAbort?.abort();
    const message = exit.kind === 'stopped' ? 'host agent stopped' : `host agent exiting: ${exit.message}`;
    for (const entry of this.requests.values()) {
      entry.controller.abort();
      entry.conn.send({ type: 'chat_response', request_id: entry.id, error: message });
      this.logger.info(`request ${entry.id} aborted: ${message}`);
    }
    this.requests.clear();
    const code = 1000;
    await Promise.all(
      [...this.connections].map((c) => c.close(code, exit.kind === 'stopped' ? 'host stopping' : '')),
    );
    this.active = null;
    this.upstream.close();
    this.wakeLoop({ kind: 'stop' });
    if (exit.kind === 'stopped' && this.started) this.logger.info('stopped');
    this.emit('exit', exit);
    this.resolveFinished(exit);
  }
}
