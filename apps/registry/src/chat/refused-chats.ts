import { Inject, Injectable, Logger } from '@nestjs/common';
import type { UsageEndpoint } from '@app/contracts';
import { randomUUID } from 'node:crypto';
import { HttpException } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ApiError } from '../common/http-errors';
import { BodyCapture } from '../inspector/body-capture';
import { NodeRequestLog } from '../inspector/node-request-log';
import { refusedChat } from '../inspector/request-rows';
import { presentedKey } from '../keys/access-key';
import { KeyDirectory } from '../keys/key-directory';
import { REFUSED_STATUSES, RefusedStatus } from '../usage/usage.repository';
import { UsageRecorder } from '../usage/usage-recorder';
import { echoedRequestId, type ChatCall } from './chat-relay.service';
import { InstanceDirectory } from './instance-directory';

const counted = (status: number): status is RefusedStatus =>
  (REFUSED_STATUSES as readonly number[]).includes(status);

/** The status and code the caller got for `error`. */
function refusalOf(error: unknown): { status: number; code: string | null } {
  if (error instanceof ApiError) return { status: error.getStatus(), code: error.details.code ?? null };
  if (error instanceof HttpException) return { status: error.getStatus(), code: null };
  return { status: 500, code: 'internal_error' };
}

/**
 * The chats the registry refused before they reached a host: counted in the owner's usage by
 * status (401, 403, 422, 429, 503) under the caller's key when it is one of the instance's own
 * (revoked and expired ones included: that is the key being hammered), and listed in the owner's
 * inspector. Runs only on a refusal; the instance and key come from the caches the refused chat
 * just filled.
 */
@Injectable()
export class RefusedChats {
  private readonly logger = new Logger('Usage');

  constructor(
    private readonly directory: InstanceDirectory,
    private readonly keys: KeyDirectory,
    private readonly usage: UsageRecorder,
    private readonly requests: NodeRequestLog,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly capture: BodyCapture,
  ) {}

  /**
   * Records the refusal `error` of a call to `endpoint` (what usage counts it under); never throws
   * (the caller's answer is the error itself).
   */
  note(call: ChatCall, error: unknown, durationMs: number, endpoint: UsageEndpoint): void {
    const at = Date.now();
    this.record(call, endpoint, refusalOf(error), durationMs, at).catch((failure: Error) =>
      this.logger.warn(`could not count a refused chat of ${call.instanceId}: ${failure.message}`),
    );
  }

  private async record(
    call: ChatCall,
    endpoint: UsageEndpoint,
    refusal: { status: number; code: string | null },
    durationMs: number,
    at: number,
  ) {
    const { instanceId, authorization } = call;
    // An unknown instance has no owner to tell, and counting it would let anyone add rows.
    if (!(await this.directory.lookup(instanceId)).exists) return;
    const secret = presentedKey(authorization);
    const key = secret === null ? null : await this.keys.lookup(secret);
    const keyId = key?.instanceId === instanceId ? key.id : null;
    if (counted(refusal.status)) this.usage.refused(instanceId, keyId, endpoint, refusal.status);
    const body = call.body as { model?: unknown } | null;
    const facts = {
      id: randomUUID(),
      endpoint: call.endpoint,
      model: typeof body === 'object' && body !== null ? body.model : undefined,
      keyId,
      ip: call.ip,
      node: this.config.nodeId,
      requestId: echoedRequestId(call.requestId) ?? null,
    };
    this.requests.record(instanceId, refusedChat(facts, refusal, durationMs, at));
    // While the owner captures: what was refused (no answer came from a model).
    this.capture.keep(instanceId, facts.id, JSON.stringify(call.body ?? null), '');
  }
}
