import { Inject, Injectable } from '@nestjs/common';
import { RetentionJob } from '../common/retention-job';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { UsageRepository } from './usage.repository';

/** Deletes usage minutes older than USAGE_RETENTION_DAYS: one row per instance, key and minute adds up. */
@Injectable()
export class UsageRetention extends RetentionJob {
  constructor(usage: UsageRepository, @Inject(APP_CONFIG) config: AppConfig) {
    super('usage minutes', config.usage.retentionDays, (before, batch) => usage.purge(before, batch));
  }
}
