import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ChatStats } from '../chat/chat-stats';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ConnectedHosts } from '../hosts/connected-hosts';

@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    private readonly hosts: ConnectedHosts,
    private readonly chats: ChatStats,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('healthz')
  @ApiOperation({ summary: 'Process is alive; with this node id and counters' })
  health() {
    return {
      status: 'ok',
      node_id: this.config.nodeId,
      mode: this.config.redisUrl ? 'distributed' : 'embedded',
      connected_hosts: this.hosts.size,
      chats: this.chats.snapshot(),
    };
  }
}
