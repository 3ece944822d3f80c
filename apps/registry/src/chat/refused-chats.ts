import { Injectable, Logger } from '@nestjs/common';
import { ApiError } from '../common/http-errors';
import { presentedKey } from '../keys/access-key';
import { KeyDirectory } from '../keys/key-directory';
import { REFUSED_STATUSES, RefusedStatus } from '../usage/usage.repository';
import { UsageRecorder } from '../usage/usage-recorder';
import { InstanceDirectory } from './instance-directory';

const counted = (status: number): status is RefusedStatus =>
  (REFUSED_STATUSES as readonly number[]).includes(status);

/**
 * Counts the chats the registry refused before they reached a host (401, 403, 422, 429, 503) in
 * the owner's usage, by status and under the caller's key when it is one of the instance's own
 * (revoked and expired ones included: that is the key being hammered). Runs only on a refusal; the
 * instance and key come from the caches the refused chat just filled.
 */
@Injectable()
export class RefusedChats {
  private readonly logger = new Logger('Usage');

  constructor(
    private readonly directory: InstanceDirectory,
    private readonly keys: KeyDirectory,
    private readonly usage: UsageRecorder,
  ) {}

  /** Records `error` if it is a counted refusal; never throws (the caller's answer is the error itself). */
  note(instanceId: string, authorization: string | undefined, error: unknown): void {
    if (!(error instanceof ApiError)) return;
    const status = error.getStatus();
    if (!counted(status)) return;
    this.record(instanceId, authorization, status).catch((failure: Error) =>
      this.logger.warn(`could not count a refused chat of ${instanceId}: ${failure.message}`),
    );
  }

  private async record(instanceId: string, authorization: string | undefined, status: RefusedStatus) {
    // An unknown instance has no owner to tell, and counting it would let anyone add rows.
    if (!(await this.directory.lookup(instanceId)).exists) return;
    const secret = presentedKey(authorization);
    const key = secret === null ? null : await this.keys.lookup(secret);
    this.usage.refused(instanceId, key?.instanceId === instanceId ? key.id : null, status);
  }
}
