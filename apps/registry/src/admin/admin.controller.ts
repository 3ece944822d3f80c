import { Controller, Get, UseGuards } from '@nestjs/common';
import type { ClusterView } from '@app/contracts';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ClusterBus } from '../cluster/cluster-bus';
import { InstancesService } from '../instances/instances.service';
import { AdminTokenGuard } from './admin-token.guard';
import { NodeStatsSampler } from './node-stats.sampler';
import { NodeStatsStore } from './node-stats.store';

@ApiTags('admin')
@Controller('api/admin')
@UseGuards(AdminTokenGuard)
export class AdminController {
  constructor(
    private readonly sampler: NodeStatsSampler,
    private readonly store: NodeStatsStore,
    private readonly instances: InstancesService,
    private readonly bus: ClusterBus,
  ) {}

  @Get('cluster')
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Every live node: connected hosts, chats in flight, chats/s, time to first token p50/p99',
  })
  async cluster(): Promise<ClusterView> {
    const self = await this.sampler.current();
    const others = this.store.others();
    // Other nodes' stats come over Redis: while it is out of reach they stop coming (and expire).
    const problem = this.bus.connected
      ? null
      : 'this node is not connected to Redis: other nodes may be missing or out of date';
    const nodes = [self, ...others.sort((a, b) => a.node_id.localeCompare(b.node_id))];
    return {
      node_id: self.node_id,
      nodes,
      totals: {
        nodes: nodes.length,
        connected_hosts: nodes.reduce((n, s) => n + s.connected_hosts, 0),
        chats_in_flight: nodes.reduce((n, s) => n + s.chats_in_flight, 0),
        chats_per_second: Math.round(nodes.reduce((n, s) => n + s.chats_per_second, 0) * 100) / 100,
      },
      // From the database and this node's view of live nodes: answers while Redis is down too.
      online_instances: (await this.instances.count(['online'])).value.count,
      online_instances_with_private: await this.instances.onlineCount(),
      problem,
    };
  }
}
