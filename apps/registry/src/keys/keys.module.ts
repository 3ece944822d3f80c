import { Module } from '@nestjs/common';
import { REDIS } from '../cluster/cluster.module';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { InstancesModule } from '../instances/instances.module';
import { LimitsModule } from '../limits/limits.module';
import type { RedisConnections } from '../redis/redis-connections';
import { UsageModule } from '../usage/usage.module';
import { AccessChanges } from './access-changes';
import { ChatAccess } from './chat-access.service';
import { KeyCounters, MemoryKeyCounters } from './key-counters';
import { KeyDirectory } from './key-directory';
import { KeyRetention } from './key-retention';
import { KeysController } from './keys.controller';
import { KeysRepository } from './keys.repository';
import { KeysService } from './keys.service';
import { RedisKeyCounters } from './redis-key-counters';
import { TokenBudgets } from './token-budgets';

@Module({
  imports: [InstancesModule, LimitsModule, UsageModule],
  controllers: [KeysController],
  providers: [
    KeysRepository,
    KeysService,
    KeyDirectory,
    KeyRetention,
    AccessChanges,
    ChatAccess,
    TokenBudgets,
    {
      provide: KeyCounters,
      inject: [APP_CONFIG, REDIS],
      useFactory: (config: AppConfig, redis: RedisConnections | null): KeyCounters =>
        redis ? new RedisKeyCounters(redis.command, config.redisPrefix) : new MemoryKeyCounters(),
    },
  ],
  exports: [ChatAccess, KeyDirectory],
})
export class KeysModule {}
