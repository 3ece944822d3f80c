import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { ChatRequestBody, NodeReplyMessage, NodeRequestMessage } from '@app/protocol';
import { ClusterBus } from '../cluster/cluster-bus';
import type { ChatSink } from './chat-sink';
import type { ChatFailureCode } from '@app/protocol';
import { ConnectedHosts } from '../hosts/connected-hosts';
import type { HostConnection } from '../hosts/host-connection';

type ChatMessage = Extract<NodeRequestMessage, { kind: 'chat' }>;

/** The owner's side of a cross-node chat: runs it on the local host socket, replies with sequence numbers. */
@Injectable()
export class RemoteChatServer implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RemoteChatServer.name);
  /** requestId → instanceId of chats this node runs for other nodes. */
  private readonly running = new Map<string, string>();
  /** requestId → the caller's node, checked for liveness while the host is silent. */
  private readonly callers = new Map<string, string>();
  /** Chats waiting for a host connection this node is still accepting; and those cancelled meanwhile. */
  private readonly waiting = new Set<string>();
  private readonly cancelledWhileWaiting = new Set<string>();
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
    const nodes = new Set(this.callers.values());
    for (const nodeId of nodes) {
      if (await this.bus.isNodeAlive(nodeId).catch(() => true)) continue;
      for (const [requestId, from] of this.callers) if (from === nodeId) this.cancel(requestId);
    }
  }

  get size(): number {
    return this.running.size;
  }

  handleChat(message: ChatMessage): void {
    const { requestId, from, instanceId } = message;
    let seq = 0;
    let open = true;
    /** Lines received in this tick, published together (one PUBLISH per request per tick). */
    let buffered: string[] | null = null;
    const publish = (reply: NodeReplyMessage, last: boolean) => {
      this.bus.sendReply(from, reply).then(
        (delivered) => {
          // The caller's node is gone: stop the host instead of streaming into the void.
          if (!delivered && !last) this.cancel(requestId);
        },
        (error: Error) => this.logger.warn(`reply for ${requestId} failed: ${error.message}`),
      );
    };
    const flush = (end?: 'done') => {
      const lines = buffered;
      buffered = null;
      if (lines) publish({ kind: 'chunks', requestId, seq: seq++, lines, ...(end && { done: true }) }, !!end);
      else if (end) publish({ kind: 'done', requestId, seq: seq++ }, true);
    };
    const close = () => {
      open = false;
      this.running.delete(requestId);
      this.callers.delete(requestId);
    };
    const sink: ChatSink = {
      lines: (lines) => {
        if (!open) return;
        if (buffered) {
          for (const line of lines) buffered.push(line);
          return;
        }
        buffered = lines.slice();
        process.nextTick(() => {
          if (open) flush();
        });
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
      this.running.set(requestId, instanceId);
      this.callers.set(requestId, from);
      if (!connection.startChat(requestId, message.body as ChatRequestBody, sink))
        sink.error('queue_full', 'too many requests are waiting for this instance');
    };
    const connection = this.hosts.get(instanceId);
    if (connection && connection.epoch >= message.epoch) return start(connection);
    // The host may be connecting to this node right now (its claim is what the caller read).
    this.waiting.add(requestId);
    void this.hosts.getOrAccepting(instanceId).then((accepted) => {
      this.waiting.delete(requestId);
      if (this.cancelledWhileWaiting.delete(requestId)) return;
      start(accepted);
    });
  }

  cancel(requestId: string): void {
    if (this.waiting.has(requestId)) this.cancelledWhileWaiting.add(requestId);
    const instanceId = this.running.get(requestId);
    if (instanceId === undefined) return;
    this.running.delete(requestId);
    this.callers.delete(requestId);
    this.hosts.get(instanceId)?.cancelChat(requestId);
  }
}
