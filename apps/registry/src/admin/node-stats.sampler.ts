import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { ChatRelayService } from '../chat/chat-relay.service';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ConnectedHosts } from '../hosts/connected-hosts';
import { NodeState } from '../lifecycle/node-state';
import { Metrics } from '../metrics/metrics';
import type { NodeStats } from '@app/contracts';
import { MetricsSample, QUANTILE_WINDOW_MS, RATE_WINDOW_MS, statsBetween } from './node-stats';
import { NodeStatsStore } from './node-stats.store';

const SAMPLE_EVERY_MS = 1_000;

/**
 * Samples this node's own counters every second and keeps a minute of samples, so the cluster view
 * shows recent rates and latencies rather than totals since boot; in distributed mode it also
 * publishes the result for the other nodes to read.
 */
@Injectable()
export class NodeStatsSampler implements OnModuleInit, OnModuleDestroy {
  private samples: MetricsSample[] = [];
  private bounds: number[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly metrics: Metrics,
    private readonly hosts: ConnectedHosts,
    private readonly chats: ChatRelayService,
    private readonly state: NodeState,
    private readonly store: NodeStatsStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.tick(), SAMPLE_EVERY_MS);
    this.timer.unref();
    void this.tick();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** This node's stats now: live gauges, rates and quantiles over the sampled windows. */
  async current(): Promise<NodeStats> {
    const now = await this.sample();
    const rateFrom = this.samples.find((s) => s.at >= now.at - RATE_WINDOW_MS) ?? now;
    const quantileFrom = this.samples[0] ?? now;
    return {
      node_id: this.config.nodeId,
      at: now.at,
      draining: this.state.draining,
      connected_hosts: this.hosts.openCount,
      chats_in_flight: this.chats.activeCount,
      ...statsBetween(rateFrom, quantileFrom, now, this.bounds),
    };
  }

  private async tick(): Promise<void> {
    try {
      const sample = await this.sample();
      this.samples.push(sample);
      while (this.samples.length > 0 && this.samples[0].at < sample.at - QUANTILE_WINDOW_MS)
        this.samples.shift();
      await this.store.publish(await this.current());
    } catch {
      // Redis down: the next tick tries again, and the view says which nodes it could not read.
    }
  }

  private async sample(): Promise<MetricsSample> {
    const chats = (await this.metrics.chats.get()).values.reduce((sum, v) => sum + v.value, 0);
    const buckets = (await this.metrics.timeToFirstToken.get()).values.filter((v) =>
      v.metricName?.endsWith('_bucket'),
    );
    this.bounds = buckets.filter((v) => v.labels.le !== '+Inf').map((v) => Number(v.labels.le));
    return { at: Date.now(), chats, ttftBuckets: buckets.map((v) => v.value) };
  }
}
