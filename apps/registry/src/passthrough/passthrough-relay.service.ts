import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { FastifyReply } from 'fastify';
import {
  forwardedHeaders,
  UPLOAD_ENDPOINTS,
  type ChatRequestBody,
  type PassthroughEndpoint,
} from '@app/protocol';
import { ApiError, instanceNotFound } from '../common/http-errors';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ChatAdmission } from '../chat/chat-admission';
import type { ChatSummary } from '../chat/chat-exchange';
import { failureError } from '../chat/chat-failures';
import { ChatRouter } from '../chat/chat-router';
import { InstanceDirectory } from '../chat/instance-directory';
import { MeteredSink } from '../chat/metered-sink';
import type { KnownKey } from '../keys/key-directory';
import { NodeState } from '../lifecycle/node-state';
import { LimitsService } from '../limits/limits.service';
import { Metrics } from '../metrics/metrics';
import { BodyCapture } from '../inspector/body-capture';
import { CAPTURE_LIMITS } from '../inspector/captured-bodies';
import { bodyText, CapturingSink } from '../inspector/capturing-sink';
import { NodeRequestLog } from '../inspector/node-request-log';
import { endedChat } from '../inspector/request-rows';
import { UsageRecorder } from '../usage/usage-recorder';
import { PassthroughExchange, type ErrorShape } from './passthrough-exchange';
import { askForStreamUsage } from './stream-usage';
import { capturedRequest, multipartOf, notMultipart } from './multipart-upload';
import { placeTokenCeiling } from './token-field';

export interface PassthroughCall {
  instanceId: string;
  endpoint: PassthroughEndpoint;
  /** The route called, for the owner's inspector (`/api/chat/{id}/embeddings`, ...). */
  path: string;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
  ip: string;
  reply: FastifyReply;
}

/** `Authorization`, or Anthropic's `x-api-key` (what its SDKs send) as a Bearer key. */
export function presentedAuthorization(headers: PassthroughCall['headers']): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === 'string') return authorization;
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey !== '' ? `Bearer ${apiKey}` : undefined;
}

/**
 * Takes a request for another endpoint than chat on, as a chat in all but its shape: the same
 * admission (keys, the owner's policy, limits, routable or held), the same routing (replicas,
 * failover before the first byte, the hold, cancel on disconnect), the same usage records — and
 * relays the host's answer as the model server wrote it.
 */
@Injectable()
export class PassthroughRelayService {
  private readonly logger = new Logger('Passthrough');
  /** Requests answering on this node (drain waits for them, then ends what is left). */
  private readonly active = new Set<PassthroughExchange>();

  constructor(
    private readonly directory: InstanceDirectory,
    private readonly admission: ChatAdmission,
    private readonly router: ChatRouter,
    private readonly state: NodeState,
    private readonly limits: LimitsService,
    private readonly usage: UsageRecorder,
    private readonly metrics: Metrics,
    private readonly requests: NodeRequestLog,
    private readonly capture: BodyCapture,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get activeCount(): number {
    return this.active.size;
  }

  /** Ends every request in flight with an error in its API's shape (end of a drain's grace period). */
  abortAll(message: string): void {
    for (const exchange of [...this.active]) exchange.error('shutting_down', message);
  }

  async relay(call: PassthroughCall): Promise<void> {
    const receivedAt = performance.now();
    const { instanceId, endpoint, reply } = call;
    if (this.state.draining)
      throw failureError('shutting_down', 'this registry node is shutting down; retry');
    const multipart = multipartOf(call.body);
    if (UPLOAD_ENDPOINTS.includes(endpoint) && !multipart) throw notMultipart(endpoint);
    if (typeof call.body !== 'object' || call.body === null || Array.isArray(call.body))
      throw new ApiError(422, 'the request body must be a JSON object', {
        code: 'invalid_body',
        param: 'body',
      });
    const body = multipart ? { ...multipart.fields } : (call.body as Record<string, unknown>);
    const entry = await this.directory.lookup(instanceId);
    if (!entry.exists) throw instanceNotFound(instanceId);
    const requestId = randomUUID();
    // Admission and the policy read it as a chat body; the host gets it as the caller's body.
    const hostBody = { ...body } as ChatRequestBody;
    const contentLength = Number(call.headers['content-length']);
    const admitted = await this.admission.admit({
      instanceId,
      requestId,
      hostBody,
      body,
      entry,
      authorization: presentedAuthorization(call.headers),
      ip: call.ip,
      bodyBytes: multipart
        ? multipart.heldBytes
        : Number.isSafeInteger(contentLength)
          ? contentLength
          : Buffer.byteLength(JSON.stringify(body)),
      http: {
        endpoint,
        headers: forwardedHeaders(call.headers),
        ...(multipart && { upload: multipart.upload }),
      },
    });
    placeTokenCeiling(endpoint, hostBody, body);
    const stripUsageChunk = askForStreamUsage(endpoint, hostBody, body);
    const { route, key } = admitted;
    const shape: ErrorShape = endpoint === 'messages' ? 'anthropic' : 'openai';

    reply.hijack();
    const chat = this.config.chat;
    let capturing: CapturingSink | undefined;
    const exchange = new PassthroughExchange(reply.raw, {
      requestId,
      shape,
      receivedAt,
      firstChunkTimeoutMs: chat.firstChunkTimeoutMs,
      idleTimeoutMs: chat.idleTimeoutMs,
      totalTimeoutMs: chat.totalTimeoutMs,
      maxBufferedBytes: chat.maxBufferedBytes,
      maxUsageBytes: chat.maxAssembledBytes,
      stripUsageChunk,
      buffers: this.limits.buffers,
      cancel: () => route.cancel(),
      finished: (summary) => {
        this.active.delete(exchange);
        const charged = admitted.release(summary);
        this.finished(instanceId, endpoint, charged, key);
        const facts = {
          id: requestId,
          endpoint: call.path,
          model: hostBody.model,
          keyId: key?.id ?? null,
          ip: call.ip,
          node: this.config.nodeId,
          requestId,
        };
        this.requests.record(instanceId, endedChat(facts, charged, route.servedBy, Date.now()));
        if (capturing)
          this.capture.keep(instanceId, requestId, capturedRequest(body, multipart), capturing.answer);
      },
    });
    this.active.add(exchange);
    exchange.dispatched();
    // Only while the owner captures bodies: the answer is kept on the side, as the model server wrote it.
    if (this.capture.endsAt(instanceId) !== null)
      capturing = new CapturingSink(exchange, CAPTURE_LIMITS.perBody, bodyText);
    const relayed = capturing ?? exchange;
    const sink = admitted.meter ? new MeteredSink(relayed, admitted.meter, () => route.cancel()) : relayed;
    await this.router.dispatch(route, sink);
  }

  private finished(
    instanceId: string,
    endpoint: PassthroughEndpoint,
    summary: ChatSummary,
    key: KnownKey | null,
  ): void {
    this.usage.record({
      instanceId,
      keyId: key?.id ?? null,
      endpoint,
      failed: summary.outcome !== 'completed' && summary.outcome !== 'caller_gone',
      promptTokens: summary.promptTokens,
      completionTokens: summary.completionTokens,
      firstChunkMs: summary.firstChunkMs,
    });
    this.metrics.chats.inc({ outcome: summary.outcome });
    this.logger.log({
      msg: 'request finished',
      request_id: summary.requestId,
      instance_id: instanceId,
      endpoint,
      outcome: summary.outcome,
      first_chunk_ms: summary.firstChunkMs,
      duration_ms: summary.durationMs,
    });
  }
}
