import { Inject, Injectable } from '@nestjs/common';
import { RetentionJob } from '../common/retention-job';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { KeysRepository } from './keys.repository';

/** Deletes keys revoked or expired more than KEY_RETENTION_DAYS ago (listed as such until then). */
@Injectable()
export class KeyRetention extends RetentionJob {
  constructor(keys: KeysRepository, @Inject(APP_CONFIG) config: AppConfig) {
    super('revoked or expired keys', config.keys.retentionDays, (before, batch) => keys.purge(before, batch));
  }
}
