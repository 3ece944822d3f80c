import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { ClusterBus } from '../cluster/cluster-bus';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ApiError, instanceNotFound } from '../common/http-errors';
import { ConnectedHosts } from '../hosts/connected-hosts';
import { PresenceStore } from '../presence/presence.store';
import { ChatExchange, ChatOutcome } from './chat-exchange';
import { parseChatRequest } from './chat-request';
import { ChatStats } from './chat-stats';
import { NodeState } from '../lifecycle/node-state';
import { InstanceDirectory } from './instance-directory';
import { RemoteChatClient } from './remote-chat.client';

const notConnected = (instanceId: string) =>
  new ApiError(503, `instance '${instanceId}' is not connected`, {
    code: 'instance_offline',
    headers: { 'retry-after': '5' },
  });

/**
 * Routes a chat to the node that holds the instance's host socket — this node (no Redis at all)
 * or another one through the cluster bus — and relays the answer back to the caller.
 */
@Injectable()
export class ChatRelayService {
  /** Chats whose caller is on this node and whose answer has not ended. */
  private readonly active = new Set<ChatExchange>();

  constructor(
    private readonly directory: InstanceDirectory,
    private readonly presence: PresenceStore,
    private readonly hosts: ConnectedHosts,
    private readonly remote: RemoteChatClient,
    private readonly bus: ClusterBus,
    private readonly stats: ChatStats,
    private readonly state: NodeState,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get activeCount(): number {
    return this.active.size;
  }

  /** Ends every chat in flight with an error event (end of a drain's grace period). */
  abortAll(message: string): void {
    for (const exchange of [...this.active]) exchange.error('shutting_down', message);
  }

  async relay(instanceId: string, body: unknown, defaultStream: boolean, reply: FastifyReply): Promise<void> {
    if (this.state.draining)
      throw new ApiError(503, 'this registry node is shutting down; retry', {
        code: 'shutting_down',
        headers: { 'retry-after': '1' },
      });
    const { hostBody, stream } = parseChatRequest(body, defaultStream);
    if (!(await this.directory.lookup(instanceId)).exists) throw instanceNotFound(instanceId);
    const requestId = randomUUID();
    const local = this.hosts.get(instanceId);
    const owner = local ? null : await this.presence.owner(instanceId);
    if (!local && (!owner || owner.nodeId === this.bus.nodeId)) throw notConnected(instanceId);

    let cancel: () => void = () => undefined;
    const exchangeFor = () => {
      const exchange = new ChatExchange(reply.raw, {
        requestId,
        stream,
        keepaliveMs: this.config.chat.keepaliveMs,
        firstChunkTimeoutMs: this.config.chat.firstChunkTimeoutMs,
        idleTimeoutMs: this.config.chat.idleTimeoutMs,
        totalTimeoutMs: this.config.chat.totalTimeoutMs,
        maxBufferedBytes: this.config.chat.maxBufferedBytes,
        cancel: () => cancel(),
        finished: (outcome: ChatOutcome) => {
          this.active.delete(exchange);
          this.stats.record(outcome);
        },
      });
      this.active.add(exchange);
      return exchange;
    };

    if (local) {
      // Same-node fast path: straight onto the host socket, no Redis round trip.
      reply.hijack();
      const exchange = exchangeFor();
      cancel = () => local.cancelChat(requestId);
      if (!local.startChat(requestId, hostBody, exchange))
        exchange.error('queue_full', 'too many requests are waiting for this instance');
      return;
    }

    reply.hijack();
    const exchange = exchangeFor();
    cancel = () => this.remote.cancel(requestId);
    if (!(await this.remote.start(owner!, instanceId, requestId, hostBody, exchange))) {
      exchange.error('node_unreachable', `instance '${instanceId}' is not reachable right now`);
    }
  }
}
