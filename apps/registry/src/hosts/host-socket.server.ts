import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { CHUNK_FRAMES_BINARY, CHUNK_FRAMES_HEADER } from '@app/protocol';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { clientAddress, trustFunction, type TrustFunction } from '../common/client-address';
import { ApiError } from '../common/http-errors';
import { InstanceAuthService } from '../instances/instance-auth.service';
import { NodeState } from '../lifecycle/node-state';
import { LimitsService } from '../limits/limits.service';
import { HostAcceptance } from './host-acceptance';
import { parseUpgradeRequest } from './upgrade-request';

/**
 * `GET /api/ws/{instance_id}` on the registry's own port. Authentication happens during the
 * HTTP upgrade: a bad secret gets a plain HTTP 401 (unknown instance 404) and no socket.
 * The request URL carries `?password=` for stock clients, so it is never logged.
 */
const CHUNK_FRAMES_OFFER = `${CHUNK_FRAMES_HEADER}: ${CHUNK_FRAMES_BINARY}`;

@Injectable()
export class HostSocketServer implements OnApplicationShutdown {
  private readonly logger = new Logger(HostSocketServer.name);
  private readonly wss: WebSocketServer;
  private server?: Server;
  private readonly trust: TrustFunction | null;
  /** Upgrades refused since the node started, by HTTP status (read by the metrics collector). */
  readonly rejectedByStatus = new Map<number, number>();

  constructor(
    private readonly auth: InstanceAuthService,
    private readonly acceptance: HostAcceptance,
    private readonly state: NodeState,
    private readonly limits: LimitsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: config.ws.maxPayloadBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.trust = trustFunction(config.trustProxy);
    // Offers our agent the binary chunk frames (it accepts in its hello; see chunk-frames.ts).
    if (config.ws.binaryChunks)
      this.wss.on('headers', (headers: string[]) => headers.push(CHUNK_FRAMES_OFFER));
  }

  attach(server: Server): void {
    this.server = server;
    server.on(
      'upgrade',
      (request: IncomingMessage, socket: Duplex, head: Buffer) => void this.onUpgrade(request, socket, head),
    );
  }

  onApplicationShutdown(): void {
    this.server?.removeAllListeners('upgrade');
    this.wss.close();
  }

  private async onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const timer = setTimeout(() => socket.destroy(), this.config.ws.handshakeTimeoutMs);
    try {
      if (this.state.draining) return this.reject(socket, 503, 'this registry node is shutting down');
      const target = parseUpgradeRequest(request);
      if (target.kind === 'not_found') return this.reject(socket, 404, 'not found');
      const ip = clientAddress(request, this.trust);
      if (target.kind === 'unauthenticated') {
        const limited = this.limits.authFailed(ip, null);
        if (limited) return this.reject(socket, 429, limited.message, limited.details.headers);
        return this.reject(socket, 401, 'missing or invalid credentials');
      }
      if (target.kind === 'bad_replica')
        return this.reject(
          socket,
          400,
          'invalid replica name: 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit',
        );
      const instance = await this.auth.verify(target.instanceId, target.password, ip);
      if (socket.destroyed) return;
      // Counted once authenticated: a stranger cannot use up an instance's connects.
      this.limits.assertHostConnectAllowed(ip, target.instanceId);
      if (!this.limits.acquireSocket(ip))
        return this.reject(socket, 429, 'too many host connections from this address');
      this.upgrade(request, socket, head, ip, target.instanceId, target.replica, instance.passwordHash);
    } catch (error) {
      if (error instanceof ApiError)
        return this.reject(socket, error.getStatus(), error.message, error.details.headers);
      this.logger.error(`upgrade failed: ${(error as Error).message}`);
      this.reject(socket, 503, 'registry unavailable');
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Its own scope on purpose: the socket's close listener lives as long as the host stays, and a
   * closure keeps its whole scope — here only what it needs, not the password or the instance row.
   */
  private upgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    ip: string,
    instanceId: string,
    replica: string,
    passwordHash: Uint8Array,
  ): void {
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      ws.once('close', this.socketReleaser(ip));
      this.acceptance.accept(ws, instanceId, replica, passwordHash).catch((error: Error) => {
        this.logger.error(`could not accept host ${instanceId}: ${error.message}`);
        ws.close(1011, 'registry error');
      });
    });
  }

  private socketReleaser(ip: string): () => void {
    return () => this.limits.releaseSocket(ip);
  }

  private reject(
    socket: Duplex,
    status: number,
    message: string,
    headers: Record<string, string> = {},
  ): void {
    this.rejectedByStatus.set(status, (this.rejectedByStatus.get(status) ?? 0) + 1);
    if (socket.destroyed) return;
    const body = JSON.stringify({ code: status, message, data: null });
    const extra = Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
        `${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
}
