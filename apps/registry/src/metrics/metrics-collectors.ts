import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Counter } from 'prom-client';
import { ChatRelayService } from '../chat/chat-relay.service';
import { ClusterBus } from '../cluster/cluster-bus';
import { ConnectedHosts } from '../hosts/connected-hosts';
import { HostSocketServer } from '../hosts/host-socket.server';
import { NodeState } from '../lifecycle/node-state';
import { InstancesService } from '../instances/instances.service';
import { Metrics } from './metrics';

/**
 * Mirrors live state and the counts each capability keeps into Prometheus metrics when they are
 * scraped, so hot paths carry no metric code and no capability depends on this one.
 */
@Injectable()
export class MetricsCollectors implements OnModuleInit {
  /** Last value seen of each capability's own count, so a scrape adds only what is new. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly metrics: Metrics,
    private readonly hosts: ConnectedHosts,
    private readonly sockets: HostSocketServer,
    private readonly chats: ChatRelayService,
    private readonly instances: InstancesService,
    private readonly bus: ClusterBus,
    private readonly state: NodeState,
  ) {}

  onModuleInit(): void {
    this.metrics.onCollect(async () => {
      let queued = 0;
      for (const connection of this.hosts.all()) queued += connection.scheduler.queuedCount;
      this.metrics.connectedHosts.set(this.hosts.openCount);
      this.metrics.queuedChats.set(queued);
      this.metrics.activeChats.set(this.chats.activeCount);
      this.metrics.draining.set(this.state.draining ? 1 : 0);
      this.advance(this.metrics.malformedFrames, 'malformed', this.hosts.malformedFrames);
      this.advance(this.metrics.publishFailures, 'publishFailures', this.bus.stats.publishFailures);
      for (const [status, count] of this.sockets.rejectedByStatus)
        this.advance(this.metrics.rejectedUpgrades, `rejected:${status}`, count, { status: String(status) });
      // Public instances only (the endpoint is open); the directory's shared read, no Redis.
      this.metrics.onlineInstances.set((await this.instances.count(['online'])).value.count);
    });
  }

  private advance<L extends string>(
    counter: Counter<L>,
    key: string,
    total: number,
    labels?: Partial<Record<L, string>>,
  ): void {
    const added = total - (this.seen.get(key) ?? 0);
    if (added <= 0) return;
    this.seen.set(key, total);
    if (labels) counter.inc(labels, added);
    else counter.inc(added);
  }
}
