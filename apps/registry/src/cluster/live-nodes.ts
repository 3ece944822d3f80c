import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { ClusterBus } from './cluster-bus';

/** How often the membership and each member's liveness are read again. */
export const LIVE_NODES_CHECK_MS = 1_000;
/**
 * A member found not listening is asked again when a chat needs it, for this long after it was
 * first seen so: a node resubscribing after a Redis restart listens again within a moment, and must
 * not stay dead until the next check.
 */
export const RECENTLY_DEAD_MS = 5_000;
/** Such a node is asked at most this often (a truly dead node: a few PUBSUB NUMSUB a second). */
const ASK_DEAD_AGAIN_MS = 100;
/** A node dead for this long leaves the membership (its rows of what it held are purged). */
export const FORGET_DEAD_NODE_MS = 10 * 60_000;

/**
 * Which registry nodes are alive, as this node last checked in the background: every member of
 * the cluster's membership (`ClusterBus.nodes()`) whose request channel still has a listener. One
 * check per member per second, whatever the number of instances or of readers, so reads of
 * "online" (detail, list, count, metrics) cost no liveness query of their own. A SIGKILLed node
 * drops out within a second. When the membership cannot be read (Redis down), the last answer
 * stands: a Redis outage does not turn every instance offline in the directory.
 */
@Injectable()
export class LiveNodes implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('LiveNodes');
  private alive = new Set<string>();
  /** performance.now() since which a member has been seen dead. */
  private readonly deadSince = new Map<string, number>();
  /** performance.now() a recently dead node was last asked on demand (see RECENTLY_DEAD_MS). */
  private readonly askedDead = new Map<string, number>();
  private readonly forgetListeners: Array<(nodeId: string) => void> = [];
  private readonly changeListeners: Array<() => void> = [];
  private timer?: NodeJS.Timeout;
  private failing = false;
  /** Bumped whenever the set changes: answers computed from an older set are stale. */
  version = 0;

  constructor(private readonly bus: ClusterBus) {
    this.alive.add(bus.nodeId);
  }

  async onModuleInit(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), LIVE_NODES_CHECK_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** The live nodes as last checked (this one always). Do not keep or change it. */
  get current(): ReadonlySet<string> {
    return this.alive;
  }

  /**
   * Whether `nodeId` is alive: from the last check, or asked now for a node not seen yet (it joined
   * since: its hosts can be in presence before it is here) or seen dead only lately.
   */
  async isAlive(nodeId: string): Promise<boolean> {
    if (this.alive.has(nodeId)) return true;
    const deadSince = this.deadSince.get(nodeId);
    if (deadSince !== undefined) {
      const now = performance.now();
      if (now - deadSince > RECENTLY_DEAD_MS) return false;
      if (now - (this.askedDead.get(nodeId) ?? -Infinity) < ASK_DEAD_AGAIN_MS) return false;
      this.askedDead.set(nodeId, now);
    }
    const alive = await this.bus.isNodeAlive(nodeId);
    if (alive) {
      this.deadSince.delete(nodeId);
      this.askedDead.delete(nodeId);
      this.update(new Set([...this.alive, nodeId]));
    }
    return alive;
  }

  /** Runs `listener` when the set of live nodes changes. */
  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  /** Runs `listener` with a node that has been dead for FORGET_DEAD_NODE_MS (to purge what it left). */
  onForget(listener: (nodeId: string) => void): void {
    this.forgetListeners.push(listener);
  }

  async refresh(): Promise<void> {
    let members: string[];
    try {
      members = await this.bus.nodes();
    } catch (error) {
      if (!this.failing) this.logger.warn(`cannot read the cluster's nodes: ${(error as Error).message}`);
      this.failing = true;
      return;
    }
    this.failing = false;
    const checked = await Promise.all(
      members.map(async (nodeId) => ({
        nodeId,
        alive: nodeId === this.bus.nodeId || (await this.bus.isNodeAlive(nodeId)),
      })),
    );
    const now = performance.now();
    const alive = new Set<string>([this.bus.nodeId]);
    for (const { nodeId, alive: isAlive } of checked) {
      if (isAlive) {
        alive.add(nodeId);
        this.deadSince.delete(nodeId);
        continue;
      }
      const since = this.deadSince.get(nodeId) ?? now;
      this.deadSince.set(nodeId, since);
      if (now - since >= FORGET_DEAD_NODE_MS) this.forget(nodeId);
    }
    for (const nodeId of this.deadSince.keys()) if (!members.includes(nodeId)) this.deadSince.delete(nodeId);
    for (const nodeId of this.askedDead.keys())
      if (!this.deadSince.has(nodeId)) this.askedDead.delete(nodeId);
    this.update(alive);
  }

  private update(alive: Set<string>): void {
    const same = alive.size === this.alive.size && [...alive].every((n) => this.alive.has(n));
    if (same) return;
    this.alive = alive;
    this.version++;
    for (const listener of this.changeListeners) listener();
  }

  private forget(nodeId: string): void {
    this.deadSince.delete(nodeId);
    this.logger.log(`node ${nodeId} has been gone for ${FORGET_DEAD_NODE_MS / 60_000} min; forgetting it`);
    this.bus.forgetNode(nodeId).catch((error: Error) => this.logger.warn(error.message));
    for (const listener of this.forgetListeners) listener(nodeId);
  }
}
