import { Injectable, OnModuleInit } from '@nestjs/common';
import { ClusterBus } from '../cluster/cluster-bus';
import { ConnectedHosts } from '../hosts/connected-hosts';
import { RemoteChatServer } from './remote-chat.server';

/** Hands each message on this node's request channel to the capability that handles it. */
@Injectable()
export class ClusterRequestDispatcher implements OnModuleInit {
  constructor(
    private readonly bus: ClusterBus,
    private readonly chats: RemoteChatServer,
    private readonly hosts: ConnectedHosts,
  ) {}

  onModuleInit(): void {
    this.bus.onRequest((message) => {
      switch (message.kind) {
        case 'chat':
          return this.chats.handleChat(message);
        case 'cancel':
          return this.chats.cancel(message.requestId);
        case 'evict':
          return this.hosts.handleEvict(message);
      }
    });
  }
}
