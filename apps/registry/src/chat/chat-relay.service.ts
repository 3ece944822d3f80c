import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { FastifyReply } from 'fastify';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { instanceNotFound } from '../common/http-errors';
import type { KnownKey } from '../keys/key-directory';
import { NodeState } from '../lifecycle/node-state';
import { LimitsService } from '../limits/limits.service';
import { Metrics } from '../metrics/metrics';
import { BodyCapture } from '../inspector/body-capture';
import { CAPTURE_LIMITS } from '../inspector/captured-bodies';
import { CapturingSink } from '../inspector/capturing-sink';
import { NodeRequestLog } from '../inspector/node-request-log';
import { endedChat } from '../inspector/request-rows';
import { UsageRecorder } from '../usage/usage-recorder';
import { ChatExchange, ChatSummary } from './chat-exchange';
import { failureError } from './chat-failures';
import { ChatRules, parseChatRequest } from './chat-request';
import { ChatAdmission } from './chat-admission';
import { ChatRouter } from './chat-router';
import { InstanceDirectory } from './instance-directory';
import { MeteredSink } from './metered-sink';

/**
 * A caller-supplied request id is echoed and logged (so a chat can be followed across systems) if
 * it looks sane, but never routed on: callers repeat ids (retries, propagated trace ids, strangers).
 */
const REQUEST_ID = /^[\w.:-]{8,128}$/;

/** The caller's X-Request-Id if it is echoed (see REQUEST_ID); undefined otherwise. */
export const echoedRequestId = (id: string | undefined) => (id && REQUEST_ID.test(id) ? id : undefined);

export interface ChatCall {
  instanceId: string;
  body: unknown;
  /** What an absent `stream` means on the route that was called. */
  defaultStream: boolean;
  /** Second Me's rules (bare route) or OpenAI's (`/chat/completions`): see ChatRules. */
  rules: ChatRules;
  ip: string;
  /** The request body's size as sent (`Content-Length`); measured from the body when absent. */
  bodyBytes?: number;
  /** The caller's `Authorization` header: an access key (`Bearer sk-…`) or anything else. */
  authorization?: string;
  requestId?: string;
  /** The path called, for the owner's inspector. */
  endpoint: string;
  reply: FastifyReply;
}

/** A body sent without Content-Length (chunked): its size as JSON. */
const bodySize = (body: unknown) => Buffer.byteLength(JSON.stringify(body) ?? '');

const callerWantsUsage = (body: unknown) =>
  (body as { stream_options?: { include_usage?: unknown } }).stream_options?.include_usage === true;

/**
 * Takes a caller's chat on (validation, then ChatAdmission: access, limits, routable), hands it to the router — which picks a
 * replica on this node (no Redis at all) or another one through the cluster bus, or holds it until
 * one connects — and relays the answer back to the caller.
 */
@Injectable()
export class ChatRelayService {
  private readonly logger = new Logger('Chat');
  /** Chats whose caller is on this node and whose answer has not ended. */
  private readonly active = new Set<ChatExchange>();

  constructor(
    private readonly directory: InstanceDirectory,
    private readonly router: ChatRouter,
    private readonly metrics: Metrics,
    private readonly state: NodeState,
    private readonly limits: LimitsService,
    private readonly admission: ChatAdmission,
    private readonly usage: UsageRecorder,
    private readonly requests: NodeRequestLog,
    private readonly capture: BodyCapture,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get activeCount(): number {
    return this.active.size;
  }

  /** Ends every chat in flight with an error event (end of a drain's grace period). */
  abortAll(message: string): void {
    for (const exchange of [...this.active]) exchange.error('shutting_down', message);
  }

  async relay(call: ChatCall): Promise<void> {
    const receivedAt = performance.now();
    const { instanceId, reply } = call;
    if (this.state.draining)
      throw failureError('shutting_down', 'this registry node is shutting down; retry');
    const { hostBody, stream } = parseChatRequest(call.body, call.defaultStream, call.rules);
    const entry = await this.directory.lookup(instanceId);
    if (!entry.exists) throw instanceNotFound(instanceId);
    // The key of every routing map on every node: unique because this node made it.
    const requestId = randomUUID();
    const admitted = await this.admission.admit({
      instanceId,
      requestId,
      hostBody,
      body: call.body as Record<string, unknown>,
      entry,
      authorization: call.authorization,
      ip: call.ip,
      bodyBytes: call.bodyBytes ?? bodySize(call.body),
    });
    const { route, key } = admitted;
    const callerRequestId = echoedRequestId(call.requestId);

    reply.hijack();
    // Only while the owner captures bodies: the answer's text is assembled on the side.
    let capturing: CapturingSink | undefined;
    const exchange = new ChatExchange(reply.raw, {
      requestId: callerRequestId ?? requestId,
      stream,
      receivedAt,
      keepaliveMs: this.config.chat.keepaliveMs,
      firstChunkTimeoutMs: this.config.chat.firstChunkTimeoutMs,
      idleTimeoutMs: this.config.chat.idleTimeoutMs,
      totalTimeoutMs: this.config.chat.totalTimeoutMs,
      maxBufferedBytes: this.config.chat.maxBufferedBytes,
      maxAssembledBytes: this.config.chat.maxAssembledBytes,
      stripUsageChunk: stream && !callerWantsUsage(call.body),
      buffers: this.limits.buffers,
      cancel: () => route.cancel(),
      // A metered chat is charged (and recorded) what it relayed when the model sent no usage.
      finished: (summary) => {
        const charged = admitted.release(summary);
        this.finished(exchange, instanceId, requestId, charged, key);
        this.requests.record(
          instanceId,
          endedChat(
            {
              id: requestId,
              endpoint: call.endpoint,
              model: hostBody.model,
              keyId: key?.id ?? null,
              ip: call.ip,
              node: this.config.nodeId,
              requestId: summary.requestId,
            },
            charged,
            route.servedBy,
            Date.now(),
          ),
        );
        if (capturing) this.capture.keep(instanceId, requestId, JSON.stringify(call.body), capturing.answer);
      },
    });
    this.active.add(exchange);
    exchange.dispatched();
    if (this.capture.endsAt(instanceId) !== null)
      capturing = new CapturingSink(exchange, CAPTURE_LIMITS.perBody);
    const relayed = capturing ?? exchange;
    const sink = admitted.meter ? new MeteredSink(relayed, admitted.meter, () => route.cancel()) : relayed;
    // Routed now, or held until a replica connects (the exchange's keepalives run meanwhile).
    await this.router.dispatch(route, sink);
  }

  private finished(
    exchange: ChatExchange,
    instanceId: string,
    requestId: string,
    summary: ChatSummary,
    key: KnownKey | null,
  ): void {
    this.active.delete(exchange);
    this.usage.record({
      instanceId,
      keyId: key?.id ?? null,
      endpoint: 'chat',
      // A caller who left chose to; everything else that did not complete is an error.
      failed: summary.outcome !== 'completed' && summary.outcome !== 'caller_gone',
      promptTokens: summary.promptTokens,
      completionTokens: summary.completionTokens,
      firstChunkMs: summary.firstChunkMs,
    });
    this.metrics.chats.inc({ outcome: summary.outcome });
    this.metrics.registryTime.observe(summary.registryMs / 1000);
    if (summary.firstChunkMs !== null) this.metrics.timeToFirstToken.observe(summary.firstChunkMs / 1000);
    this.logger.log({
      msg: 'chat finished',
      request_id: requestId,
      caller_request_id: summary.requestId === requestId ? undefined : summary.requestId,
      instance_id: instanceId,
      outcome: summary.outcome,
      first_chunk_ms: summary.firstChunkMs,
      duration_ms: summary.durationMs,
    });
  }
}
