import { Injectable } from '@nestjs/common';
import type { ChatRequestBody } from '@app/protocol';
import { ClusterBus } from '../cluster/cluster-bus';
import type { ChatSink } from './chat-sink';
import { ConnectedHosts } from '../hosts/connected-hosts';
import type { HostConnection } from '../hosts/host-connection';
import { Metrics } from '../metrics/metrics';
import { OnlineInstances } from '../presence/online-instances';
import type { PresenceOwner } from '../presence/presence.store';
import { RemoteChatClient } from './remote-chat.client';

/** Where a chat is sent: a host socket on this node, or the node that owns the instance. */
export type ChatTarget = { local: HostConnection } | { owner: PresenceOwner };

/** The caller's side of a chat, as the router sees it. */
export interface RoutedSink extends ChatSink {
  readonly isFinished: boolean;
}

export interface RoutedChat {
  instanceId: string;
  requestId: string;
  hostBody: ChatRequestBody;
  sink: RoutedSink;
  /** Points the caller's cancel (caller gone, timeout) at the current target. */
  setCancel(cancel: () => void): void;
}

/** How many times one chat may follow its host to a new connection before it fails. */
export const MAX_REROUTES = 2;

/**
 * How long a node trusts the online owner it last read for an instance (one GET and one liveness
 * query less per cross-node chat). This is a routing hint, not a second notion of online: a stale
 * entry costs one extra hop, never a failure, because the old owner answers `not_connected` (or
 * nobody receives the PUBLISH) and the router reads the owner again through `OnlineInstances`.
 */
export const OWNER_CACHE_MS = 1_000;

/**
 * Hands a chat to its target and follows the host when it has just moved: a failure that proves
 * the chat never reached a host (`not_connected` from the old owner, `host_moved` from a retired
 * socket's queue) makes the router read presence again and, if the instance now lives elsewhere,
 * send the chat there instead of failing it. This closes the race of a drain or takeover, where
 * a caller's node read the old owner a moment before the new connection claimed the instance.
 */
@Injectable()
export class ChatRouter {
  private readonly owners = new Map<string, { owner: PresenceOwner; expires: number }>();

  constructor(
    private readonly hosts: ConnectedHosts,
    private readonly online: OnlineInstances,
    private readonly remote: RemoteChatClient,
    private readonly bus: ClusterBus,
    private readonly metrics: Metrics,
  ) {}

  /**
   * Where a chat for the instance goes now: the host socket on this node, else the owner node
   * (cached for OWNER_CACHE_MS); null when the instance is not online (as detail and list say). Rejects when
   * Redis cannot be read.
   */
  async resolve(instanceId: string): Promise<ChatTarget | null> {
    const local = this.hosts.get(instanceId) ?? (await this.hosts.getOrAccepting(instanceId));
    if (local) return { local };
    const cached = this.owners.get(instanceId);
    if (cached && cached.expires > performance.now()) return { owner: cached.owner };
    const owner = await this.readOwner(instanceId);
    return owner ? { owner } : null;
  }

  /** Reads the online owner (never the cache) and remembers it when it is another node. */
  private async readOwner(instanceId: string): Promise<PresenceOwner | null> {
    const owner = await this.online.owner(instanceId);
    if (!owner || owner.nodeId === this.bus.nodeId) {
      this.owners.delete(instanceId);
      return null;
    }
    if (this.owners.size >= 100_000) this.owners.clear();
    this.owners.set(instanceId, { owner, expires: performance.now() + OWNER_CACHE_MS });
    return owner;
  }

  async dispatch(chat: RoutedChat, target: ChatTarget, reroutes = MAX_REROUTES): Promise<void> {
    const { instanceId, requestId, hostBody } = chat;
    const sink = reroutes > 0 ? this.reroutingSink(chat, target, reroutes) : chat.sink;
    if ('local' in target) {
      // Same-node fast path: straight onto the host socket, no Redis round trip.
      chat.setCancel(() => target.local.cancelChat(requestId));
      if (!target.local.startChat(requestId, hostBody, sink))
        chat.sink.error('queue_full', 'too many requests are waiting for this instance');
      return;
    }
    chat.setCancel(() => this.remote.cancel(requestId));
    if (await this.remote.start(target.owner, instanceId, requestId, hostBody, sink)) return;
    // Nobody listens on the owner's channel (the node died): its hosts may already be elsewhere.
    sink.error('not_connected', `instance '${instanceId}' is not reachable right now`);
  }

  private reroutingSink(chat: RoutedChat, target: ChatTarget, reroutes: number): ChatSink {
    const caller = chat.sink;
    return {
      lines: (lines) => caller.lines(lines),
      done: () => caller.done(),
      error: (code, message) => {
        if ((code !== 'not_connected' && code !== 'host_moved') || caller.isFinished)
          return caller.error(code, message);
        void this.newTarget(chat.instanceId, target).then((next) => {
          if (caller.isFinished) return;
          if (!next) return caller.error(code, message);
          this.metrics.chatReroutes.inc();
          return this.dispatch(chat, next, reroutes - 1);
        });
      },
    };
  }

  /** Where the instance lives now, if that differs from where the chat just failed. */
  private async newTarget(instanceId: string, previous: ChatTarget): Promise<ChatTarget | null> {
    const local = await this.hosts.getOrAccepting(instanceId);
    if (local) return 'local' in previous && previous.local === local ? null : { local };
    const owner = await this.readOwner(instanceId).catch(() => null);
    if (!owner) return null;
    const same = 'owner' in previous && previous.owner.nodeId === owner.nodeId;
    if (same && previous.owner.epoch >= owner.epoch) return null;
    return { owner };
  }
}
