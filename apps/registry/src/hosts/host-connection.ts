import { Logger } from '@nestjs/common';
import type { WebSocket, RawData } from 'ws';
import { ChatRequestBody, decodeHostFrame, HostCapabilities, RegistryToHostFrame } from '@app/protocol';
import type { ChatSink } from './chat-sink';
import { HostChatScheduler } from './host-chat-scheduler';

export interface HostConnectionEvents {
  heartbeat(connection: HostConnection): void;
  hello(connection: HostConnection): void;
  malformed(): void;
  closed(connection: HostConnection, code: number): void;
}

/** One connected host socket: frames in and out, liveness, and the chats running on it. */
export class HostConnection {
  private static readonly logger = new Logger('HostConnection');
  readonly scheduler: HostChatScheduler;
  readonly connectedAt = new Date();
  capabilities: HostCapabilities = { concurrency: 1, cancel: false, models: [] };
  agent: string | null = null;
  /** Frames dropped because they were not JSON or not a known frame. */
  malformedFrames = 0;
  private alive = true;
  private closed = false;
  /** No new chats; the socket closes once its in-flight chats end (superseded or draining). */
  retired = false;
  /** The host said `hello`: it speaks our extensions, `goaway` included. */
  saidHello = false;
  private retireTimer?: NodeJS.Timeout;

  constructor(
    readonly instanceId: string,
    public epoch: number,
    private readonly socket: WebSocket,
    queueLimit: number,
    private readonly events: HostConnectionEvents,
  ) {
    this.scheduler = new HostChatScheduler((frame) => this.send(frame), queueLimit);
    socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    socket.on('pong', () => (this.alive = true));
    // The stock client pings too; ws answers pings itself, and any traffic proves the peer alive.
    socket.on('ping', () => (this.alive = true));
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

  startChat(requestId: string, request: ChatRequestBody, sink: ChatSink): boolean {
    return this.scheduler.submit(requestId, request, sink);
  }

  cancelChat(requestId: string): void {
    this.scheduler.cancel(requestId);
  }

  send(frame: RegistryToHostFrame): void {
    if (this.closed) return;
    this.socket.send(JSON.stringify(frame));
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
    if (this.closed) return;
    this.socket.close(code, reason);
    // A peer that never completes the closing handshake must not keep the slot.
    setTimeout(() => this.socket.terminate(), 2_000).unref();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    this.alive = true;
    if (this.closed) return;
    if (isBinary) {
      this.malformedFrames++;
      this.events.malformed();
      return;
    }
    const decoded = decodeHostFrame(data.toString());
    if (!decoded.ok) {
      if (decoded.reason !== 'unknown_type') {
        this.malformedFrames++;
        this.events.malformed();
      }
      return;
    }
    const frame = decoded.frame;
    switch (frame.type) {
      case 'chat_response':
        this.scheduler.onResponse(frame);
        return;
      case 'heartbeat':
        this.send({ type: 'heartbeat_ack' });
        this.events.heartbeat(this);
        return;
      case 'hello':
        this.saidHello = true;
        this.agent = typeof frame.agent === 'string' ? frame.agent.slice(0, 200) : null;
        this.capabilities = {
          concurrency: Math.max(1, Math.min(1024, Math.floor(Number(frame.capabilities?.concurrency) || 1))),
          cancel: frame.capabilities?.cancel === true,
          models: Array.isArray(frame.capabilities?.models)
            ? frame.capabilities.models.filter((m): m is string => typeof m === 'string').slice(0, 200)
            : [],
        };
        this.scheduler.setCapabilities(this.capabilities);
        this.events.hello(this);
        return;
    }
  }

  private onClose(code: number): void {
    if (this.closed) return;
    this.closed = true;
    this.scheduler.failAll('host_disconnected', 'the host disconnected');
    this.events.closed(this, code);
  }
}
