import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { BatchWriter } from '../common/batch-writer';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { InstancesRepository } from '../instances/instances.repository';

/**
 * Buffers `last_heartbeat` per instance and writes the batch every few seconds: one UPDATE per
 * flush, never one database write per heartbeat.
 */
@Injectable()
export class HeartbeatRecorder implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(HeartbeatRecorder.name);
  private readonly pending = new BatchWriter<string, Date>({
    merge: (_earlier, later) => later,
    write: (batch) => this.instances.recordHeartbeats(batch),
    failed: (error, batch) => this.logger.warn(`could not record ${batch.size} heartbeats: ${error.message}`),
  });

  constructor(
    private readonly instances: InstancesRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.pending.start(this.config.presence.flushMs);
  }

  onModuleDestroy(): Promise<void> {
    return this.pending.stop();
  }

  record(instanceId: string, at = new Date()): void {
    this.pending.add(instanceId, at);
  }
}
