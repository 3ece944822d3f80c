import type { ClientRequestArgs, IncomingMessage } from 'node:http';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import { corkForThisTick } from '@app/common';
import {
  CHUNK_FRAMES_BINARY,
  CHUNK_FRAMES_HEADER,
  decodeRegistryFrame,
  encodeChunkFrame,
  Paths,
  PROTOCOL_VERSION,
  REPLICA_HEADER,
  type HostToRegistryFrame,
  type RegistryToHostFrame,
} from '@app/protocol';
import type { Logger } from './logger';

/** How one connection attempt or one connection ended. */
export type ConnectionEnd =
  /** The registry answered the upgrade with an HTTP status instead of a socket. */
  | { kind: 'rejected'; status: number; retryAfterMs?: number; location?: string }
  /** No socket was ever opened (refused, DNS, TLS, handshake timeout, ...). */
  | { kind: 'failed'; error: string }
  /** An open socket closed (`code` 1006 when it dropped without a close frame). */
  | { kind: 'closed'; code: number; reason: string; openForMs: number; error?: string };

export interface ConnectionHandlers {
  onOpen(conn: RegistryConnection): void;
  onFrame(conn: RegistryConnection, frame: RegistryToHostFrame): void;
  onEnd(conn: RegistryConnection, end: ConnectionEnd): void;
}

export interface ConnectionOptions {
  /** Registry base URL as configured (http, https, ws or wss). */
  registryUrl: string;
  instanceId: string;
  password: string;
  /** Sent as X-Replica on the upgrade: the registry files the connection under this name. */
  replica: string;
  heartbeatMs: number;
  pingMs: number;
  handshakeTimeoutMs?: number;
  /** Frames larger than this from the registry close the socket (1009). */
  maxPayload?: number;
  logger: Logger;
  handlers: ConnectionHandlers;
}

/** `<registry>/api/ws/<id>` with the scheme turned into ws:// or wss://. */
export function toSocketUrl(registryUrl: string, instanceId: string): string {
  const url = new URL(registryUrl);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  const base = url.pathname.replace(/\/+$/, '');
  url.pathname = base + Paths.hostSocket(instanceId);
  return url.toString();
}

/** Reads a Retry-After header given in seconds. */
function retryAfterMs(res: IncomingMessage): number | undefined {
  const raw = res.headers['retry-after'];
  if (typeof raw !== 'string' || !/^\d+$/.test(raw.trim())) return undefined;
  return Number(raw.trim()) * 1000;
}

/**
 * One WebSocket to one registry node, from dial to close. It authenticates with the Bearer
 * header (the password never goes into the URL), names its replica in X-Replica, sends JSON heartbeats, and pings natively:
 * a ping still without a pong when the next one is due means a dead link, and the socket is
 * terminated. Reconnecting is the agent's job.
 */
export class RegistryConnection {
  readonly registryUrl: string;
  readonly socketUrl: string;
  private readonly ws: WebSocket;
  private tcp: Duplex | null = null;
  private readonly options: ConnectionOptions;
  private openedAt = 0;
  private rejectedStatus: { status: number; retryAfterMs?: number; location?: string } | null = null;
  private lastError: string | undefined;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  /** The registry offered binary chunk frames in its upgrade response (see chunk-frames.ts). */
  chunkFramesOffered = false;
  /** Set once the hello accepting that offer was sent: only frames after it may be binary. */
  binaryChunks = false;
  private pingTimer: NodeJS.Timeout | null = null;
  private pongPending = false;
  private ended = false;
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;

  constructor(options: ConnectionOptions) {
    this.options = options;
    this.registryUrl = options.registryUrl;
    this.socketUrl = toSocketUrl(options.registryUrl, options.instanceId);
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
    this.ws = new WebSocket(this.socketUrl, {
      headers: {
        Authorization: `Bearer ${options.instanceId}:${options.password}`,
        [REPLICA_HEADER]: options.replica,
      },
      handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
      perMessageDeflate: false,
      maxPayload: options.maxPayload ?? 64 * 1024 * 1024,
      followRedirects: false,
      // The same connections ws makes itself, kept so frames can be corked per tick (see send).
      createConnection: (args: ClientRequestArgs) =>
        (this.tcp = connectLikeWs(args, this.socketUrl.startsWith('wss:'))),
    });
    this.ws.on('unexpected-response', (_req, res) => {
      const location = typeof res.headers.location === 'string' ? res.headers.location : undefined;
      this.rejectedStatus = { status: res.statusCode ?? 0, retryAfterMs: retryAfterMs(res), location };
      res.resume();
      this.ws.terminate();
    });
    this.ws.on('upgrade', (res) => {
      this.chunkFramesOffered = res.headers[CHUNK_FRAMES_HEADER] === CHUNK_FRAMES_BINARY;
    });
    this.ws.on('open', () => this.handleOpen());
    this.ws.on('message', (data, isBinary) => this.handleMessage(data, isBinary));
    this.ws.on('pong', () => (this.pongPending = false));
    this.ws.on('error', (err: Error & { code?: string }) => {
      // A refused upgrade also surfaces here as "Unexpected server response"; the status says more.
      if (!this.rejectedStatus) {
        this.lastError =
          err.code && !err.message.includes(err.code) ? `${err.code} ${err.message}` : err.message;
      }
    });
    this.ws.on('close', (code, reason) => this.handleClose(code, reason.toString()));
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** How long the socket has been open (0 if it never opened). */
  get openForMs(): number {
    return this.openedAt === 0 ? 0 : Date.now() - this.openedAt;
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** Resolves once the socket is fully closed. */
  get closed(): Promise<void> {
    return this.closedPromise;
  }

  /** Sends a frame; false if the socket is not open. */
  send(frame: HostToRegistryFrame): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    // Frames sent in one tick (the lines of one upstream read, a frame and a heartbeat) leave in
    // one TCP write. Corking until setImmediate, to batch across upstream sockets, measured no better.
    if (this.tcp) corkForThisTick(this.tcp);
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /**
   * The SSE events of one upstream read as one binary chunk frame; only once the hello said
   * `binary_chunks` (the caller checks `binaryChunks`). False if the socket is not open.
   */
  sendEvents(requestId: string, events: string | Buffer, done: boolean): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    if (this.tcp) corkForThisTick(this.tcp);
    this.ws.send(encodeChunkFrame(requestId, events, done));
    return true;
  }

  sendHeartbeat(): void {
    this.send({
      type: 'heartbeat',
      data: {
        timestamp: Math.floor(Date.now() / 1000),
        instance_id: this.options.instanceId,
        status: 'alive',
      },
      version: PROTOCOL_VERSION,
    });
  }

  /** Closes with a close frame; terminates if the other side does not answer in time. */
  close(code = 1000, reason = '', timeoutMs = 2000): Promise<void> {
    if (this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.terminate();
    } else if (this.ws.readyState === WebSocket.OPEN) {
      this.ws.close(code, reason);
      const timer = setTimeout(() => this.ws.terminate(), timeoutMs);
      timer.unref();
      void this.closedPromise.then(() => clearTimeout(timer));
    }
    return this.closedPromise;
  }

  /** Drops the socket at once, without a close frame. */
  terminate(): void {
    this.ws.terminate();
  }

  private handleOpen(): void {
    this.openedAt = Date.now();
    this.heartbeatTimer = setInterval(() => this.sendHeartbeat(), this.options.heartbeatMs);
    this.pingTimer = setInterval(() => this.pingTick(), this.options.pingMs);
    this.options.handlers.onOpen(this);
  }

  private pingTick(): void {
    if (this.pongPending) {
      this.lastError = `no pong within ${this.options.pingMs} ms`;
      this.options.logger.warn(`no answer to ping from ${this.registryUrl}; dropping the connection`);
      this.ws.terminate();
      return;
    }
    this.pongPending = true;
    try {
      this.ws.ping();
    } catch {
      // Not open any more; the close handler runs next.
    }
  }

  private handleMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (isBinary) {
      this.options.logger.warn('ignored a binary frame from the registry');
      return;
    }
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : data.toString();
    const decoded = decodeRegistryFrame(text);
    if (!decoded.ok) {
      if (decoded.reason === 'unknown_type') this.options.logger.debug(`ignored a frame of unknown type`);
      else this.options.logger.warn(`ignored a bad frame from the registry (${decoded.reason})`);
      return;
    }
    this.options.handlers.onFrame(this, decoded.frame);
  }

  private handleClose(code: number, reason: string): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.heartbeatTimer = this.pingTimer = null;
    this.resolveClosed();
    if (this.ended) return;
    this.ended = true;
    let end: ConnectionEnd;
    if (this.rejectedStatus) end = { kind: 'rejected', ...this.rejectedStatus };
    else if (this.openedAt === 0) end = { kind: 'failed', error: this.lastError ?? `closed (code ${code})` };
    else end = { kind: 'closed', code, reason, openForMs: Date.now() - this.openedAt, error: this.lastError };
    this.options.handlers.onEnd(this, end);
  }
}

/** What ws's own netConnect / tlsConnect do (ws/lib/websocket.js), returning the socket to us. */
function connectLikeWs(args: ClientRequestArgs, secure: boolean): Duplex {
  const options = args as ClientRequestArgs & tls.ConnectionOptions & net.NetConnectOpts;
  if (secure) {
    const servername =
      options.servername || options.servername === ''
        ? options.servername
        : net.isIP(String(options.host))
          ? ''
          : String(options.host);
    return tls.connect({ ...options, path: undefined, servername } as tls.ConnectionOptions);
  }
  return net.connect({ ...options, path: args.socketPath } as net.NetConnectOpts);
}
