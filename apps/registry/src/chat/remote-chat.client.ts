import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { ChatRequestBody, HttpTarget, NodeReplyMessage } from '@app/protocol';
import { ClusterBus } from '../cluster/cluster-bus';
import { deliverEvents, type ChatSink } from '../contracts/chat-sink';
import type { PresenceOwner } from '../presence/presence.store';

/** The replica a chat is sent to, on the node that holds it. */
export interface RemoteReplica extends PresenceOwner {
  instanceId: string;
  /** '' for the unnamed replica. */
  replica: string;
}

interface Pending {
  sink: ChatSink;
  owner: RemoteReplica;
  nextSeq: number;
}

/** How often the caller's node checks that the owner nodes of its pending requests still live. */
const LIVENESS_CHECK_MS = 2_000;

/**
 * The caller's node in a cross-node chat: sends the request to the node that holds the host,
 * and checks the replies' sequence numbers (a gap is an error, never silently missing text).
 */
@Injectable()
export class RemoteChatClient implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RemoteChatClient.name);
  private readonly pending = new Map<string, Pending>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly bus: ClusterBus) {}

  onModuleInit(): void {
    this.bus.onReply((message) => this.onReply(message));
    this.bus.onDisconnect(() => this.failAll(() => true, 'lost the connection to the other registry nodes'));
    this.timer = setInterval(() => void this.checkOwners(), LIVENESS_CHECK_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  get size(): number {
    return this.pending.size;
  }

  /** Resolves false when the owner node cannot be reached (the caller answers 503). */
  async start(
    owner: RemoteReplica,
    requestId: string,
    body: ChatRequestBody,
    sink: ChatSink,
    http?: HttpTarget,
  ): Promise<boolean> {
    // Without our reply subscription the answer would be lost and the caller left waiting.
    if (!this.bus.connected) return false;
    this.pending.set(requestId, { sink, owner, nextSeq: 0 });
    const sent = await this.bus.sendRequest(owner.nodeId, {
      kind: 'chat',
      requestId,
      from: this.bus.nodeId,
      instanceId: owner.instanceId,
      ...(owner.replica !== '' && { replica: owner.replica }),
      epoch: owner.epoch,
      body,
      ...(http && { http }),
    });
    if (!sent) this.pending.delete(requestId);
    return sent;
  }

  cancel(requestId: string): void {
    const pending = this.pending.get(requestId);
    if (!pending) return;
    this.pending.delete(requestId);
    void this.bus.sendRequest(pending.owner.nodeId, {
      kind: 'cancel',
      requestId,
      from: this.bus.nodeId,
      instanceId: pending.owner.instanceId,
      ...(pending.owner.replica !== '' && { replica: pending.owner.replica }),
      epoch: pending.owner.epoch,
    });
  }

  private onReply(message: NodeReplyMessage): void {
    const pending = this.pending.get(message.requestId);
    if (!pending) return;
    if (message.seq !== pending.nextSeq) {
      this.pending.delete(message.requestId);
      this.logger.warn(
        `request ${message.requestId}: expected message ${pending.nextSeq}, got ${message.seq}`,
      );
      pending.sink.error('sequence_gap', 'part of the answer was lost between registry nodes');
      return;
    }
    pending.nextSeq++;
    switch (message.kind) {
      case 'chunks':
        if (message.done === true) this.pending.delete(message.requestId);
        pending.sink.lines(message.lines);
        if (message.done === true) pending.sink.done();
        return;
      case 'events':
        if (message.done === true) this.pending.delete(message.requestId);
        if (message.events.length > 0) deliverEvents(pending.sink, message.events);
        if (message.done === true) pending.sink.done();
        return;
      case 'done':
        this.pending.delete(message.requestId);
        pending.sink.done();
        return;
      case 'error':
        this.pending.delete(message.requestId);
        pending.sink.error(message.code, message.message);
        return;
    }
  }

  private async checkOwners(): Promise<void> {
    const nodes = new Set([...this.pending.values()].map((p) => p.owner.nodeId));
    for (const nodeId of nodes) {
      if (await this.bus.isNodeAlive(nodeId).catch(() => true)) continue;
      this.failAll((p) => p.owner.nodeId === nodeId, 'the registry node holding the host went away');
    }
  }

  private failAll(match: (p: Pending) => boolean, message: string): void {
    for (const [requestId, pending] of this.pending) {
      if (!match(pending)) continue;
      this.pending.delete(requestId);
      pending.sink.error('node_unreachable', message);
    }
  }
}
