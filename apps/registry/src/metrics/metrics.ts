import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

/**
 * Every Prometheus metric of a node, in one registry. Capabilities update them; gauges that mirror
 * live state are filled in by collectors registered with `onCollect` (see MetricsCollectors).
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  readonly chats = new Counter({
    name: 'registry_chats_total',
    help: 'Chats whose caller was on this node, by outcome (completed, host_disconnected, timeout, caller_gone, ...)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly chatsHeld = new Counter({
    name: 'registry_chats_held_total',
    help: 'Chats that waited for a replica of their instance to connect (CHAT_HOLD_MS)',
    registers: [this.registry],
  });

  readonly chatReroutes = new Counter({
    name: 'registry_chat_reroutes_total',
    help: 'Chats sent to another replica because theirs failed before the first token (gone, busy, moved)',
    registers: [this.registry],
  });

  readonly timeToFirstToken = new Histogram({
    name: 'registry_chat_time_to_first_token_seconds',
    help: 'From the chat request arriving to the first chunk from the host',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly registryTime = new Histogram({
    name: 'registry_chat_registry_seconds',
    help: 'Time the registry itself spent before handing a chat to the host (validation, lookup, routing)',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly connectedHosts = new Gauge({
    name: 'registry_connected_hosts',
    help: 'Host sockets open on this node',
    registers: [this.registry],
  });

  readonly onlineInstances = new Gauge({
    name: 'registry_online_instances',
    help: 'Instances online in the whole cluster (presence)',
    registers: [this.registry],
  });

  readonly queuedChats = new Gauge({
    name: 'registry_chat_queue_depth',
    help: 'Chats waiting for a free slot on hosts held by this node',
    registers: [this.registry],
  });

  readonly activeChats = new Gauge({
    name: 'registry_active_chats',
    help: 'Chats in flight whose caller is on this node',
    registers: [this.registry],
  });

  readonly rejectedUpgrades = new Counter({
    name: 'registry_ws_rejected_upgrades_total',
    help: 'Host WebSocket upgrades refused, by HTTP status',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  readonly malformedFrames = new Counter({
    name: 'registry_ws_malformed_frames_total',
    help: 'Frames from hosts that were not valid JSON or not a known frame shape',
    registers: [this.registry],
  });

  readonly publishFailures = new Counter({
    name: 'registry_redis_publish_failures_total',
    help: 'Redis PUBLISH calls that failed (Redis down or timed out)',
    registers: [this.registry],
  });

  readonly draining = new Gauge({
    name: 'registry_draining',
    help: '1 while this node drains (SIGTERM)',
    registers: [this.registry],
  });

  private readonly collectors: Array<() => void | Promise<void>> = [];

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  onCollect(collector: () => void | Promise<void>): void {
    this.collectors.push(collector);
  }

  async render(): Promise<string> {
    await Promise.all(this.collectors.map((collect) => Promise.resolve(collect()).catch(() => undefined)));
    return this.registry.metrics();
  }
}
