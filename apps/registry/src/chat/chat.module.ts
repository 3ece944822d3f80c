import { Module } from '@nestjs/common';
import { HostsModule } from '../hosts/hosts.module';
import { InspectorModule } from '../inspector/inspector.module';
import { InstancesModule } from '../instances/instances.module';
import { LimitsModule } from '../limits/limits.module';
import { KeysModule } from '../keys/keys.module';
import { ReplicasModule } from '../replicas/replicas.module';
import { UsageModule } from '../usage/usage.module';
import { ChatAdmission } from './chat-admission';
import { ChatRelayService } from './chat-relay.service';
import { ChatRouter } from './chat-router';
import { ChatController } from './chat.controller';
import { InstanceDirectory } from './instance-directory';
import { RefusedChats } from './refused-chats';
import { RemoteChatClient } from './remote-chat.client';
import { RemoteChatServer } from './remote-chat.server';

@Module({
  imports: [
    InspectorModule,
    InstancesModule,
    HostsModule,
    ReplicasModule,
    LimitsModule,
    KeysModule,
    UsageModule,
  ],
  controllers: [ChatController],
  providers: [
    ChatRelayService,
    ChatAdmission,
    ChatRouter,
    InstanceDirectory,
    RefusedChats,
    RemoteChatClient,
    RemoteChatServer,
  ],
  exports: [
    ChatRelayService,
    RemoteChatClient,
    RemoteChatServer,
    // For passthrough/: other endpoints are admitted and routed as chats.
    ChatAdmission,
    ChatRouter,
    InstanceDirectory,
    RefusedChats,
  ],
})
export class ChatModule {}
