import { Inject, Injectable } from '@nestjs/common';
import { REDIS } from '../cluster/cluster.module';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import type { RedisConnections } from '../redis/redis-connections';
import type { NodeStats } from '@app/contracts';

/** A node that has not written its stats for this long is gone (stopped, killed or cut off). */
const STATS_TTL_MS = 5_000;

/**
 * Every node's latest stats in Redis: one key per node with a TTL (a dead node vanishes on its own)
 * and a set naming the nodes, so reading them needs no SCAN. Without Redis there is only this node.
 */
@Injectable()
export class NodeStatsStore {
  constructor(
    @Inject(REDIS) private readonly redis: RedisConnections | null,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** One hash tag for the set and every node's key: a Redis Cluster keeps them in one slot (no CROSSSLOT). */
  private get indexKey(): string {
    return `{${this.config.redisPrefix}:node-stats}`;
  }

  private key(nodeId: string): string {
    return `${this.indexKey}:${nodeId}`;
  }

  async publish(stats: NodeStats): Promise<void> {
    if (!this.redis) return;
    await this.redis.command
      .multi()
      .set(this.key(stats.node_id), JSON.stringify(stats), 'PX', STATS_TTL_MS)
      .sadd(this.indexKey, stats.node_id)
      .exec();
  }

  /** The other nodes' latest stats (empty without Redis); forgets nodes whose record expired. */
  async others(): Promise<NodeStats[]> {
    if (!this.redis) return [];
    const ids = (await this.redis.command.smembers(this.indexKey)).filter((id) => id !== this.config.nodeId);
    if (ids.length === 0) return [];
    const values = await this.redis.command.mget(ids.map((id) => this.key(id)));
    const gone = ids.filter((_, i) => values[i] === null);
    if (gone.length > 0) await this.redis.command.srem(this.indexKey, ...gone);
    return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as NodeStats);
  }
}
