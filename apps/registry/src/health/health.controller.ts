import { Controller, Get, Inject, Logger, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ChatRelayService } from '../chat/chat-relay.service';
import { ClusterBus } from '../cluster/cluster-bus';
import { APP_CONFIG, AppConfig, isDistributed } from '../config/app-config';
import { PrismaService } from '../database/prisma.service';
import { ConnectedHosts } from '../hosts/connected-hosts';
import { NodeState } from '../lifecycle/node-state';

const CHECK_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS).unref()),
  ]);
}

@ApiTags('health')
@Controller()
export class HealthController {
  private readonly logger = new Logger(HealthController.name);

  constructor(
    private readonly hosts: ConnectedHosts,
    private readonly chats: ChatRelayService,
    private readonly prisma: PrismaService,
    private readonly state: NodeState,
    private readonly bus: ClusterBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('healthz')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  health() {
    return {
      status: 'ok',
      node_id: this.config.nodeId,
      mode: isDistributed(this.config) ? 'distributed' : 'embedded',
      connected_hosts: this.hosts.size,
      active_chats: this.chats.activeCount,
    };
  }

  @Get('readyz')
  @ApiOperation({ summary: 'Readiness: database and Redis reachable, not draining (503 otherwise)' })
  async ready(@Res() reply: FastifyReply) {
    const checks: Record<string, string> = { draining: this.state.draining ? 'yes' : 'no' };
    // Anyone may call this: the driver's message (hosts, database names) goes to our log, not to them.
    const check = (name: string, probe: Promise<unknown>) =>
      withTimeout(probe).then(
        () => (checks[name] = 'ok'),
        (error: Error) => {
          checks[name] = 'unreachable';
          // One line: Prisma's messages span several.
          this.logger.warn(`readiness: ${name} check failed: ${error.message.replace(/\s+/g, ' ').trim()}`);
        },
      );
    await Promise.all([
      check('database', this.prisma.$queryRaw`SELECT 1`),
      isDistributed(this.config)
        ? check('redis', this.bus.ping())
        : Promise.resolve((checks.redis = 'not used')),
    ]);
    const ready =
      !this.state.draining && checks.database === 'ok' && ['ok', 'not used'].includes(checks.redis);
    void reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  }
}
