import { Module } from '@nestjs/common';
import { ChatModule } from '../chat/chat.module';
import { HostsModule } from '../hosts/hosts.module';
import { HealthController } from './health.controller';

@Module({ imports: [ChatModule, HostsModule], controllers: [HealthController] })
export class HealthModule {}
