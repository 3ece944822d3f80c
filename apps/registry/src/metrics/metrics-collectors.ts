import { Injectable, OnModuleInit } from '@nestjs/common';
import { ChatRelayService } from '../chat/chat-relay.service';
import { ClusterBus } from '../cluster/cluster-bus';
import { RedisClusterBus } from '../cluster/redis-cluster-bus';
import { ConnectedHosts } from '../hosts/connected-hosts';
import { HostSocketServer } from '../hosts/host-socket.server';
import { NodeState } from '../lifecycle/node-state';
import { OnlineInstances } from '../presence/online-instances';
import { Metrics } from './metrics';

/** Mirrors live state into gauges when Prometheus scrapes, so hot paths carry no metric code. */
@Injectable()
export class MetricsCollectors implements OnModuleInit {
  private publishFailuresSeen = 0;
  private malformedSeen = 0;

  constructor(
    private readonly metrics: Metrics,
    private readonly hosts: ConnectedHosts,
    private readonly sockets: HostSocketServer,
    private readonly chats: ChatRelayService,
    private readonly online: OnlineInstances,
    private readonly bus: ClusterBus,
    private readonly state: NodeState,
  ) {}

  onModuleInit(): void {
    this.sockets.onReject = (status) => this.metrics.rejectedUpgrades.inc({ status: String(status) });
    this.metrics.onCollect(async () => {
      let queued = 0;
      for (const connection of this.hosts.all()) queued += connection.scheduler.queuedCount;
      const malformed = this.hosts.malformedFrames;
      this.metrics.connectedHosts.set(this.hosts.openCount);
      this.metrics.queuedChats.set(queued);
      this.metrics.activeChats.set(this.chats.activeCount);
      this.metrics.draining.set(this.state.draining ? 1 : 0);
      if (malformed > this.malformedSeen) this.metrics.malformedFrames.inc(malformed - this.malformedSeen);
      this.malformedSeen = malformed;
      if (this.bus instanceof RedisClusterBus) {
        const failures = this.bus.stats.publishFailures;
        if (failures > this.publishFailuresSeen)
          this.metrics.publishFailures.inc(failures - this.publishFailuresSeen);
        this.publishFailuresSeen = failures;
      }
      this.metrics.onlineInstances.set((await this.online.ids()).length);
    });
  }
}
