import { Global, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { KeyCounters, MemoryKeyCounters } from '../keys/key-counters';
import { RedisKeyCounters } from '../keys/redis-key-counters';
import { MemoryPresenceStore } from '../presence/memory-presence.store';
import { OnlineInstances } from '../presence/online-instances';
import { CLUSTER_PRESENCE_BUCKETS } from '../presence/presence-keys';
import { PresenceStore } from '../presence/presence.store';
import { RedisPresenceStore } from '../presence/redis-presence.store';
import { RedisConnections } from '../redis/redis-connections';
import { ClusterBus } from './cluster-bus';
import { LiveNodes } from './live-nodes';
import { LocalClusterBus } from './local-cluster-bus';
import { RedisClusterBus } from './redis-cluster-bus';

/**
 * The Redis connections of this node; they exist only in distributed mode (REDIS_URL or
 * REDIS_CLUSTER_NODES set) and only this module uses them: the rest of the registry reaches
 * Redis through the classes it provides.
 */
const REDIS = Symbol('REDIS');

/**
 * Everything shared between nodes, chosen by configuration alone: in memory for one embedded
 * node, Redis for several nodes. Presence, node-to-node messages and broadcasts (`ClusterBus`),
 * and the per-key counters (rates, concurrency, tokens) that every node must count together.
 */
@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig): Promise<RedisConnections | null> => {
        const target = config.redisClusterNodes ?? config.redisUrl;
        if (!target) return null;
        const logger = new Logger('Redis');
        const connections = new RedisConnections(target, logger, { name: config.nodeId });
        await connections.waitReady();
        return connections;
      },
    },
    {
      provide: PresenceStore,
      inject: [APP_CONFIG, REDIS],
      useFactory: (config: AppConfig, redis: RedisConnections | null): PresenceStore =>
        redis
          ? new RedisPresenceStore(redis, {
              prefix: config.redisPrefix,
              nodeId: config.nodeId,
              ttlMs: config.presence.ttlMs,
              buckets: redis.isCluster ? CLUSTER_PRESENCE_BUCKETS : 1,
            })
          : new MemoryPresenceStore(config.nodeId),
    },
    {
      provide: ClusterBus,
      inject: [APP_CONFIG, REDIS],
      useFactory: async (config: AppConfig, redis: RedisConnections | null): Promise<ClusterBus> => {
        if (!redis) return new LocalClusterBus(config.nodeId);
        const logger = new Logger('ClusterBus');
        const bus = new RedisClusterBus(redis, {
          prefix: config.redisPrefix,
          nodeId: config.nodeId,
          log: logger,
        });
        await bus.start();
        return bus;
      },
    },
    {
      provide: KeyCounters,
      inject: [APP_CONFIG, REDIS],
      useFactory: (config: AppConfig, redis: RedisConnections | null): KeyCounters =>
        redis ? new RedisKeyCounters(redis.command, config.redisPrefix) : new MemoryKeyCounters(),
    },
    LiveNodes,
    OnlineInstances,
  ],
  exports: [PresenceStore, ClusterBus, KeyCounters, LiveNodes, OnlineInstances],
})
export class ClusterModule implements OnApplicationShutdown {
  constructor(private readonly moduleRef: ModuleRef) {}

  async onApplicationShutdown(): Promise<void> {
    await this.moduleRef.get(ClusterBus).close();
    await this.moduleRef.get(PresenceStore).close();
    await this.moduleRef.get<RedisConnections | null>(REDIS)?.close();
  }
}
