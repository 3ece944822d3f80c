import { DynamicModule, Module } from '@nestjs/common';
import { AdminModule } from './admin/admin.module';
import { AgentDownloadModule } from './agent-download/agent-download.module';
import { ChatModule } from './chat/chat.module';
import { PassthroughModule } from './passthrough/passthrough.module';
import { ClusterModule } from './cluster/cluster.module';
import { CoreModule } from './common/core.module';
import type { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { ConsoleModule } from './console/console.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { HostsModule } from './hosts/hosts.module';
import { InstancesModule } from './instances/instances.module';
import { KeysModule } from './keys/keys.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { MetricsModule } from './metrics/metrics.module';
import { RolesModule } from './roles/roles.module';
import { UsageModule } from './usage/usage.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        CoreModule,
        DatabaseModule,
        ClusterModule,
        InstancesModule,
        RolesModule,
        KeysModule,
        UsageModule,
        HostsModule,
        ChatModule,
        PassthroughModule,
        HealthModule,
        LifecycleModule,
        MetricsModule,
        AdminModule,
        ConsoleModule,
        AgentDownloadModule,
      ],
    };
  }
}
