import { Global, Module } from '@nestjs/common';
import { ChatModule } from '../chat/chat.module';
import { HostsModule } from '../hosts/hosts.module';
import { PassthroughModule } from '../passthrough/passthrough.module';
import { DrainService } from './drain.service';
import { NodeState } from './node-state';

/** Global: chat, hosts and health read NodeState, and the drain needs chat, the other endpoints and hosts (imports would cycle). */
@Global()
@Module({
  imports: [ChatModule, HostsModule, PassthroughModule],
  providers: [NodeState, DrainService],
  exports: [NodeState, DrainService],
})
export class LifecycleModule {}
