import { Logger } from '@nestjs/common';
import { clampHostConcurrency } from '@app/common';
import type { WebSocket, RawData } from 'ws';
import {
  ChatRequestBody,
  CloseCodes,
  decodeChunkFrame,
  decodeHostFrame,
  HostCapabilities,
  HostToRegistryFrame,
  HttpTarget,
  ModelStatus,
  ModelStatusFrame,
  RegistryToHostFrame,
} from '@app/protocol';
import type { ChatSink } from '../contracts/chat-sink';
import { replicaSlot } from '../contracts/replica-slot';
import { FrameRateLimiter } from './frame-rate-limiter';
import { HostChatScheduler } from './host-chat-scheduler';
import { asChatResponse } from './http-response-lines';
import type { HostConnectionEvents, HostSocketLimits } from './host-connection-options';
import { HostModelStatus } from './host-model-status';

/** One connected host socket: frames in and out, liveness, and the chats running on it. */
export class HostConnection {
  private static readonly logger = new Logger('HostConnection');
  readonly scheduler: HostChatScheduler;
  /** Epoch ms (a number, not a Date: one object less per host). */
  readonly connectedAt = Date.now();
  capabilities: HostCapabilities = { concurrency: 1, cancel: false, models: [] };
  agent: string | null = null;
  /** Frames dropped because they were not JSON or not a known frame. */
  malformedFrames = 0;
  /** Malformed frames plus frames for request ids this host was never given. */
  private badFrames = 0;
  private readonly rate: FrameRateLimiter;
  private resumeTimer?: NodeJS.Timeout;
  private alive = true;
  private closed = false;
  /** No new chats; the socket closes once its in-flight chats end (superseded or draining). */
  retired = false;
  /** The host said `hello`: it speaks our extensions, `goaway` included. */
  saidHello = false;
  /** Told to move (its node drains): still serves the chats it has, gets no new ones while another replica can take them. */
  draining = false;
  /** What its agent says about its model server (`model_status`). */
  readonly model = new HostModelStatus(() => this.events.modelStatus?.(this));
  /** Presence id: the instance id for the unnamed replica, `<id>/<replica>` otherwise. */
  readonly slot: string;
  private retireTimer?: NodeJS.Timeout;

  constructor(
    readonly instanceId: string,
    /** '' for the unnamed replica (a stock host). */
    readonly replica: string,
    public epoch: number,
    private readonly socket: WebSocket,
    queueLimit: number,
    private readonly limits: HostSocketLimits,
    private readonly events: HostConnectionEvents,
  ) {
    this.rate = new FrameRateLimiter(limits.maxFramesPerSec, limits.maxBytesPerSec);
    this.slot = replicaSlot(instanceId, replica);
    this.scheduler = new HostChatScheduler((frame) => this.send(frame), queueLimit, instanceId);
    this.scheduler.onLoad = () => this.events.load?.(this);
    socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    // Only a pong proves the peer reads: a host that only writes (floods) must not look alive.
    socket.on('pong', () => (this.alive = true));
    socket.on('close', (code) => this.onClose(code));
    socket.on('error', (error) =>
      HostConnection.logger.warn(`host ${instanceId} socket error: ${error.message}`),
    );
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Open and accepting new chats. */
  get isServing(): boolean {
    return !this.closed && !this.retired;
  }

  /** Routing may give it chats: its model is not known to be down (a field read, on the chat path). */
  get modelUp(): boolean {
    return this.model.up;
  }

  get modelStatus(): ModelStatus | null {
    return this.model.status;
  }

  get modelDetail(): string | null {
    return this.model.detail;
  }

  /** Chats it serves at once. */
  get capacity(): number {
    return this.capabilities.concurrency;
  }

  /** Chats running on it or queued for it. */
  get load(): number {
    return this.scheduler.load;
  }

  /** `http`: a request for another endpoint (http_request), refused unless the host announced it. */
  startChat(requestId: string, request: ChatRequestBody, sink: ChatSink, http?: HttpTarget): boolean {
    if (http && !this.capabilities.endpoints?.includes(http.endpoint)) {
      sink.error(
        'endpoint_not_supported',
        `this instance's host serves chat only, not ${http.endpoint} (it runs a host without the registry agent's endpoints)`,
      );
      return true;
    }
    return this.scheduler.submit(requestId, request, sink, http);
  }

  cancelChat(requestId: string): void {
    this.scheduler.cancel(requestId);
  }

  send(frame: RegistryToHostFrame): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
    this.socket.send(JSON.stringify(frame));
    if (this.socket.bufferedAmount <= this.limits.maxSendBufferBytes) return;
    HostConnection.logger.warn(
      `host ${this.instanceId} left ${this.socket.bufferedAmount} bytes unread; closing it (1008)`,
    );
    this.close(1008, 'the host does not read what it is sent');
  }

  /** Called every ping interval: a peer that did not answer the previous ping is dropped. */
  checkAlive(): void {
    if (this.closed) return;
    if (!this.alive) {
      HostConnection.logger.log(`host ${this.instanceId} missed a pong; dropping it`);
      this.socket.terminate();
      return;
    }
    this.alive = false;
    this.socket.ping();
  }

  /**
   * Stops giving this socket new chats and closes it once the ones in flight have ended, so a
   * host that moves to another connection (goaway, reconnect) does not lose streams mid-answer.
   */
  retire(code: number, reason: string): void {
    if (this.closed || this.retired) return;
    clearTimeout(this.retireTimer);
    this.retired = true;
    this.events.load?.(this);
    this.scheduler.failQueued('the host moved to another connection; retry');
    if (this.scheduler.activeCount === 0) return this.close(code, reason);
    this.scheduler.onIdle = () => this.close(code, reason);
  }

  /** Keeps serving for `ms` (a host reconnecting elsewhere takes over meanwhile), then retires. */
  retireAfter(ms: number, code: number, reason: string): void {
    if (this.closed || this.retired || this.retireTimer) return;
    this.retireTimer = setTimeout(() => this.retire(code, reason), ms);
    this.retireTimer.unref();
  }

  close(code: number, reason: string): void {
    clearTimeout(this.retireTimer);
    clearTimeout(this.resumeTimer);
    // Once closing, the terminate timer below is already set (a flood may call this per frame).
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return;
    this.socket.close(code, reason);
    // A peer that never completes the closing handshake must not keep the slot.
    setTimeout(() => this.socket.terminate(), 2_000).unref();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    const pauseMs = this.rate.admit((data as Buffer).length, Date.now());
    if (pauseMs > 0) this.pauseReading(pauseMs);
    // Nothing one frame does may take the node down: the socket goes, the process stays.
    try {
      this.handle(data, isBinary);
    } catch (error) {
      this.events.malformed();
      HostConnection.logger.error(
        `host ${this.instanceId}: a frame could not be handled; closing the socket`,
        (error as Error).stack,
      );
      this.close(1011, 'the registry could not handle a frame');
    }
  }

  private handle(data: RawData, isBinary: boolean): void {
    if (isBinary) return this.onBinary(data);
    const decoded = decodeHostFrame(data.toString());
    if (!decoded.ok) {
      if (decoded.reason !== 'unknown_type') this.malformed();
      return;
    }
    const frame = decoded.frame;
    switch (frame.type) {
      case 'chat_response':
        if (!this.scheduler.onResponse(frame)) this.strike();
        return;
      case 'http_response_head':
      case 'http_response_body':
      case 'http_response_end':
        if (!this.scheduler.onResponse(asChatResponse(frame))) this.strike();
        return;
      case 'heartbeat':
        this.events.heartbeat(this);
        // No ack to a host that has not read what it was sent: a flood of them would pile up here.
        if (this.socket.bufferedAmount === 0) this.send({ type: 'heartbeat_ack' });
        return;
      case 'hello':
        return this.onHello(frame);
      case 'model_status':
        return this.onModelStatus(frame);
    }
  }

  /** A binary chunk frame, from a host whose hello accepted them; anything else binary is malformed. */
  private onBinary(data: RawData): void {
    if (this.capabilities.binary_chunks !== true) return this.malformed();
    const bytes = Buffer.isBuffer(data)
      ? data
      : Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.from(data);
    const frame = decodeChunkFrame(bytes);
    if (frame === null) return this.malformed();
    if (!this.scheduler.onEvents(frame)) this.strike();
  }

  /** One `hello` per connection: each one is a database write that every node sees. */
  private onHello(frame: Extract<HostToRegistryFrame, { type: 'hello' }>): void {
    if (this.saidHello) return;
    this.saidHello = true;
    this.agent = frame.agent ?? null;
    this.capabilities = {
      concurrency: clampHostConcurrency(frame.capabilities?.concurrency),
      cancel: frame.capabilities?.cancel === true,
      models: frame.capabilities?.models ?? [],
      endpoints: frame.capabilities?.endpoints ?? [],
      health: frame.capabilities?.health === true,
      binary_chunks: frame.capabilities?.binary_chunks === true,
    };
    this.scheduler.setCapabilities(this.capabilities);
    this.events.hello(this);
    this.events.load?.(this);
  }

  /** Only from a host whose hello offered it. */
  private onModelStatus(frame: ModelStatusFrame): void {
    if (this.capabilities.health) this.model.receive(frame.status, frame.detail ?? null);
  }

  private malformed(): void {
    this.malformedFrames++;
    this.events.malformed();
    this.strike();
  }

  /** Counts a malformed frame or one for a request id never given; too many and the host goes (4400). */
  private strike(): void {
    this.badFrames++;
    const limit = this.limits.maxBadFrames;
    if (limit === 0 || this.badFrames < limit) return;
    HostConnection.logger.warn(
      `host ${this.instanceId} sent ${this.badFrames} bad frames; closing it (4400)`,
    );
    this.close(CloseCodes.ProtocolError, 'too many malformed frames or frames for unknown requests');
  }

  /** Over its per-second budget: stop reading until the next window (TCP pushes back on the host). */
  private pauseReading(ms: number): void {
    if (this.socket.isPaused) return;
    this.socket.pause();
    this.resumeTimer = setTimeout(() => this.socket.resume(), ms);
    this.resumeTimer.unref();
  }

  private onClose(code: number): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.resumeTimer);
    this.model.stop();
    this.scheduler.failAll('host_disconnected', 'the host disconnected');
    this.events.closed(this, code);
  }
}
