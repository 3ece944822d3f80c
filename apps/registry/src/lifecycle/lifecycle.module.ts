import { Global, Module } from '@nestjs/common';
import { ChatModule } from '../chat/chat.module';
import { HostsModule } from '../hosts/hosts.module';
import { DrainService } from './drain.service';
import { NodeState } from './node-state';

/** Global: chat, hosts and health read NodeState, and the drain needs chat and hosts (imports would cycle). */
@Global()
@Module({
  imports: [ChatModule, HostsModule],
  providers: [NodeState, DrainService],
  exports: [NodeState, DrainService],
})
export class LifecycleModule {}
