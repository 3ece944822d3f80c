import { performance } from 'node:perf_hooks';
import type { AppConfig } from '../config/app-config';
import type { Metrics } from '../metrics/metrics';
import type { ChatSink } from '../contracts/chat-sink';
import type { ChatRoute } from './chat-route';

/** What a caller reads when replicas are connected but none's model answers (no host detail: that is the owner's). */
export const modelUnreachable = (instanceId: string): string =>
  `instance '${instanceId}' is connected, but its model server is not answering; retry later`;

/** While chats wait for a replica, presence is read again this often (a safety net under gossip). */
export const HOLD_POLL_MS = 500;

/**
 * The chats of this node waiting for a replica of their instance to connect (CHAT_HOLD_MS), at
 * most CHAT_HOLD_LIMIT per instance and CHAT_HOLD_NODE_LIMIT in all. A wait ends when a replica
 * connects or its model comes back (`wake`), the caller leaves (the route's cancel), or every
 * HOLD_POLL_MS to look again.
 */
export class ChatHolds {
  /** Chats waiting, by instance. */
  private readonly held = new Map<string, Set<ChatRoute>>();
  private total = 0;

  constructor(
    private readonly config: AppConfig['chat'],
    private readonly metrics: Metrics,
  ) {}

  count(instanceId: string): number {
    return this.held.get(instanceId)?.size ?? 0;
  }

  /** Why a new chat of the instance could not wait now (null: it could). */
  refusal(instanceId: string): 'hold_full' | 'node_hold_full' | null {
    if (this.total >= this.config.holdNodeLimit) return 'node_hold_full';
    return this.count(instanceId) >= this.config.holdLimit ? 'hold_full' : null;
  }

  /** Waits until a replica may have connected; false when the hold is over (`sink` has been answered). */
  async wait(route: ChatRoute, sink: ChatSink): Promise<boolean> {
    const offline = () => {
      this.leave(route);
      if (route.modelDown) sink.error('model_unreachable', modelUnreachable(route.instanceId));
      else sink.error('instance_offline', `instance '${route.instanceId}' is not connected`);
      return false;
    };
    if (this.config.holdMs === 0) return offline();
    const now = performance.now();
    if (!route.holding) {
      if (this.refusal(route.instanceId) !== null) {
        sink.error('queue_full', 'too many requests are waiting for this instance to connect');
        return false;
      }
      const held = this.held.get(route.instanceId) ?? new Set<ChatRoute>();
      held.add(route);
      this.held.set(route.instanceId, held);
      this.total++;
      route.holding = true;
      if (route.holdUntil === undefined) {
        route.holdUntil = now + this.config.holdMs;
        this.metrics.chatsHeld.inc();
      }
    }
    const left = (route.holdUntil ?? now) - now;
    if (left <= 0) return offline();
    // A caller who leaves (or times out) meanwhile ends the wait at once, freeing its hold slot.
    route.stopsWith(() => route.wake?.());
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => route.wake?.(), Math.min(left, HOLD_POLL_MS));
      route.wake = () => {
        clearTimeout(timer);
        route.wake = undefined;
        resolve();
      };
    });
    return true;
  }

  leave(route: ChatRoute): void {
    if (!route.holding) return;
    route.holding = false;
    this.total--;
    const held = this.held.get(route.instanceId);
    held?.delete(route);
    if (held?.size === 0) this.held.delete(route.instanceId);
  }

  /** Every waiting chat looks again now (what told this node of new replicas may have been missed). */
  wakeAll(): void {
    for (const held of [...this.held.values()]) for (const route of [...held]) route.wake?.();
  }

  /** A replica of the instance connected (here or elsewhere): its waiting chats look again now. */
  wake(instanceId: string): void {
    const held = this.held.get(instanceId);
    if (held) for (const route of [...held]) route.wake?.();
  }
}
