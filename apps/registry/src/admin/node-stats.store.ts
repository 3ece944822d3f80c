import { Injectable, OnModuleInit } from '@nestjs/common';
import { ClusterBus } from '../cluster/cluster-bus';
import type { NodeStats } from '@app/contracts';
import { decodeNodeStats } from './node-stats';

/** A node not heard from for this long is gone (stopped, killed or cut off). */
const STATS_TTL_MS = 5_000;

/**
 * Every other node's latest stats, as they broadcast them (once a second, the bus's `node-stats`
 * topic): kept in memory per node and dropped when not renewed within STATS_TTL_MS, so a dead node
 * vanishes on its own and nothing is stored in Redis. Without Redis there is only this node.
 */
@Injectable()
export class NodeStatsStore implements OnModuleInit {
  private readonly latest = new Map<string, { stats: NodeStats; receivedAt: number }>();

  constructor(private readonly bus: ClusterBus) {}

  onModuleInit(): void {
    this.bus.onBroadcast('node-stats', (message, from) => {
      const stats = decodeNodeStats(message);
      if (stats?.node_id === from) this.latest.set(from, { stats, receivedAt: performance.now() });
    });
  }

  /** Tells the other nodes this node's stats (rejects when they could not be sent). */
  publish(stats: NodeStats): Promise<void> {
    this.forgetExpired();
    return this.bus.broadcast('node-stats', stats);
  }

  /** The other nodes' latest stats (empty without Redis). */
  others(): NodeStats[] {
    this.forgetExpired();
    return [...this.latest.values()].map((entry) => entry.stats);
  }

  private forgetExpired(): void {
    const oldest = performance.now() - STATS_TTL_MS;
    for (const [nodeId, entry] of this.latest) if (entry.receivedAt < oldest) this.latest.delete(nodeId);
  }
}
