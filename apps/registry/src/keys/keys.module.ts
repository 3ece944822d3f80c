import { Module } from '@nestjs/common';
import { InstancesModule } from '../instances/instances.module';
import { LimitsModule } from '../limits/limits.module';
import { UsageModule } from '../usage/usage.module';
import { AccessChanges } from './access-changes';
import { ChatAccess } from './chat-access.service';
import { KeyDirectory } from './key-directory';
import { KeyRetention } from './key-retention';
import { KeysController } from './keys.controller';
import { KeysRepository } from './keys.repository';
import { KeysService } from './keys.service';
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
    // KeyCounters (memory or Redis) comes from the global ClusterModule.
    TokenBudgets,
  ],
  exports: [ChatAccess, KeyDirectory, KeysRepository],
})
export class KeysModule {}
