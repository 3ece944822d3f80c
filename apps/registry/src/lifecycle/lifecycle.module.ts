import { Module } from '@nestjs/common';
import { ChatModule } from '../chat/chat.module';
import { HostsModule } from '../hosts/hosts.module';
import { DrainService } from './drain.service';

@Module({ imports: [ChatModule, HostsModule], providers: [DrainService], exports: [DrainService] })
export class LifecycleModule {}
