import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { TickBatch } from '@app/common';
import {
  readHttpTarget,
  type ChatRequestBody,
  type NodeReplyMessage,
  type NodeRequestMessage,
} from '@app/protocol';
import { ClusterBus } from '../cluster/cluster-bus';
import type { ChatSink } from '../contracts/chat-sink';
import { replicaSlot } from '../contracts/replica-slot';
import type { ChatFailureCode } from '@app/protocol';
import { ConnectedHosts } from '../hosts/connected-hosts';
import type { HostConnection } from '../hosts/host-connection';

type ChatMessage = Extract<NodeRequestMessage, { kind: 'chat' }>;

/** What a caller is told when one of its replies could not be delivered. */
const UNDELIVERED = {
  code: 'node_unreachable',
  message: 'part of the answer could not be delivered between registry nodes',
} as const;
const UNDELIVERED_ATTEMPTS = 4;

/** A chat this node runs for another node. */
interface RemoteRequest {
  /** The replica's presence slot. */
  slot: string;
  /** The caller's node, checked for liveness while the host is silent. */
  from: string;
  /** False while it waits for a host connection this node is still accepting. */
  running: boolean;
  /** The socket it runs on (cancel reaches it even once the socket is retired). */
  connection?: HostConnection;
}

/** The owner's side of a cross-node chat: runs it on the local host socket, replies with sequence numbers. */
@Injectable()
export class RemoteChatServer implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RemoteChatServer.name);
  /** Chats this node runs (or is about to run) for other nodes, by request id; cancelling removes one. */
  private readonly requests = new Map<string, RemoteRequest>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly bus: ClusterBus,
    private readonly hosts: ConnectedHosts,
  ) {}

  onModuleInit(): void {
    this.bus.handle('chat', (message) => this.handleChat(message));
    this.bus.handle('cancel', (message) => this.cancel(message.requestId));
    this.timer = setInterval(() => void this.checkCallers(), 1_000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  private async checkCallers(): Promise<void> {
    const running = [...this.requests].filter(([, request]) => request.running);
    for (const nodeId of new Set(running.map(([, request]) => request.from))) {
      if (await this.bus.isNodeAlive(nodeId).catch(() => true)) continue;
      for (const [requestId, request] of running) if (request.from === nodeId) this.cancel(requestId);
    }
  }

  /** Chats running on a host here for other nodes (drain waits for them). */
  get size(): number {
    let running = 0;
    for (const request of this.requests.values()) if (request.running) running++;
    return running;
  }

  handleChat(message: ChatMessage): void {
    const { requestId, from } = message;
    const slot = replicaSlot(message.instanceId, message.replica ?? '');
    let seq = 0;
    let open = true;
    const publish = (reply: NodeReplyMessage, last: boolean) => {
      this.bus.sendReply(from, reply).then(
        (delivered) => {
          if (delivered || reply.kind === 'error') return;
          // The caller's node is gone: stop the host instead of streaming into the void.
          if (!last) this.cancel(requestId);
          close();
          this.logger.warn(`a reply for ${requestId} did not reach node ${from}; chat ended`);
          // Or only the way to it failed for a moment (a Redis Cluster shard failing over while the
          // caller still listens): tell it, so its stream ends with an error instead of waiting.
          this.tellUndelivered(from, { kind: 'error', requestId, seq: seq++, ...UNDELIVERED });
        },
        (error: Error) => this.logger.warn(`reply for ${requestId} failed: ${error.message}`),
      );
    };
    /**
     * What one tick brought, as one message per run of one kind (a chat's answer is all lines, from
     * JSON frames, or all events, from binary chunk frames); `done` rides on the last.
     */
    const publishBatch = (pieces: (string | Buffer)[], done: boolean) => {
      for (let i = 0; i < pieces.length;) {
        const binary = Buffer.isBuffer(pieces[i]);
        let j = i + 1;
        while (j < pieces.length && Buffer.isBuffer(pieces[j]) === binary) j++;
        const last = done && j === pieces.length;
        const end = last ? { done: true } : {};
        if (!binary)
          publish(
            { kind: 'chunks', requestId, seq: seq++, lines: pieces.slice(i, j) as string[], ...end },
            last,
          );
        else {
          const events = j - i === 1 ? (pieces[i] as Buffer) : Buffer.concat(pieces.slice(i, j) as Buffer[]);
          publish({ kind: 'events', requestId, seq: seq++, events, ...end }, last);
        }
        i = j;
      }
    };
    /** Lines and events received in one tick, published together (one PUBLISH per request per tick). */
    const batch = new TickBatch<string | Buffer>((pieces) => {
      if (open) publishBatch(pieces, false);
    });
    /** What is still batched goes now, ahead of (or carrying) the end. */
    const flush = (end?: 'done') => {
      const pieces = batch.take();
      if (pieces) publishBatch(pieces, !!end);
      else if (end) publish({ kind: 'done', requestId, seq: seq++ }, true);
    };
    const request: RemoteRequest = { slot, from, running: false };
    const close = () => {
      open = false;
      if (this.requests.get(requestId) === request) this.requests.delete(requestId);
    };
    const sink: ChatSink = {
      lines: (lines) => {
        if (open) batch.add(lines);
      },
      rawEvents: (events) => {
        if (open) batch.add([events]);
      },
      done: () => {
        if (!open) return;
        close();
        flush('done');
      },
      error: (code: ChatFailureCode, text: string) => {
        if (!open) return;
        close();
        flush();
        publish({ kind: 'error', requestId, seq: seq++, code, message: text }, true);
      },
    };
    const start = (connection: HostConnection | undefined) => {
      if (!connection || connection.epoch < message.epoch) {
        sink.error('not_connected', 'the instance is not connected');
        return;
      }
      request.running = true;
      request.connection = connection;
      this.requests.set(requestId, request);
      const http = message.http === undefined ? undefined : readHttpTarget(message.http);
      if (http === null) return sink.error('node_error', 'another node sent an unreadable request');
      if (!connection.startChat(requestId, message.body as ChatRequestBody, sink, http))
        sink.error('queue_full', 'too many requests are waiting for this instance');
    };
    const connection = this.hosts.get(slot);
    if (connection && connection.epoch >= message.epoch) return start(connection);
    // The host may be connecting to this node right now (its claim is what the caller read).
    this.requests.set(requestId, request);
    void this.hosts.getOrAccepting(slot).then((accepted) => {
      // Cancelled while waiting: the caller has gone, so nothing is started or answered.
      if (this.requests.get(requestId) !== request) return;
      start(accepted);
    });
  }

  /** A few attempts, 500 ms apart, until one is delivered (nobody listening: all fail, harmless). */
  private tellUndelivered(nodeId: string, reply: NodeReplyMessage, attempt = 1): void {
    void this.bus.sendReply(nodeId, reply).then(
      (delivered) => {
        if (!delivered && attempt < UNDELIVERED_ATTEMPTS)
          setTimeout(() => this.tellUndelivered(nodeId, reply, attempt + 1), 500).unref();
      },
      () => undefined,
    );
  }

  cancel(requestId: string): void {
    const request = this.requests.get(requestId);
    if (!request) return;
    this.requests.delete(requestId);
    if (request.running) request.connection?.cancelChat(requestId);
  }
}
