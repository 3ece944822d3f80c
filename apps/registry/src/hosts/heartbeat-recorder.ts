import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { InstancesRepository } from '../instances/instances.repository';

/**
 * Buffers `last_heartbeat` per instance and writes the batch every few seconds: one UPDATE per
 * flush, never one database write per heartbeat.
 */
@Injectable()
export class HeartbeatRecorder implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(HeartbeatRecorder.name);
  private pending = new Map<string, Date>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly instances: InstancesRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), this.config.presence.flushMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  record(instanceId: string, at = new Date()): void {
    this.pending.set(instanceId, at);
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.instances.recordHeartbeats(batch);
    } catch (error) {
      this.logger.warn(`could not record ${batch.size} heartbeats: ${(error as Error).message}`);
      for (const [id, at] of batch) if (!this.pending.has(id)) this.pending.set(id, at);
    }
  }
}
