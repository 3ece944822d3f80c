import { Injectable } from '@nestjs/common';
import type { ChatRequestBody, HttpTarget } from '@app/protocol';
import { ApiError } from '../common/http-errors';
import { ChatAccess } from '../keys/chat-access.service';
import { applyChatPolicy, assertEndpointAllowed } from '../keys/chat-policy';
import type { KnownKey } from '../keys/key-directory';
import type { TokenMeter } from '../keys/token-meter';
import { addressKey } from '../limits/address-key';
import { ChatSlot, LimitsService } from '../limits/limits.service';
import type { ChatSummary } from './chat-exchange';
import { failureError } from './chat-failures';
import { modelUnreachable } from './chat-holds';
import type { Admission, ChatRoute } from './chat-route';
import { ChatRouter } from './chat-router';
import type { DirectoryEntry } from './instance-directory';

/** A chat as it arrives, checked and looked up, before anything is taken for it. */
export interface ChatToAdmit {
  instanceId: string;
  requestId: string;
  /** What the host will get; the instance's and the key's policy are applied to it here. */
  hostBody: ChatRequestBody;
  /** The body as the caller sent it (the policy reads what the caller asked for). */
  body: Record<string, unknown>;
  entry: DirectoryEntry;
  authorization: string | undefined;
  ip: string;
  bodyBytes: number;
  /** Another endpoint than chat (passthrough/). */
  http?: HttpTarget;
}

/** An admitted chat: its route, and everything taken for it, given back by one `release`. */
export interface AdmittedChat {
  route: ChatRoute;
  /** The caller's access key (null: none). */
  key: KnownKey | null;
  /** Meters the answer against the key's tokens_per_day (null: it has none). */
  meter: TokenMeter | null;
  /** The chat ended: frees its slots and returns what it is charged (the meter's estimate without usage). */
  release(summary: ChatSummary): ChatSummary;
}

/** Why routing turned a chat away before it was taken on. */
const REFUSALS: Record<Exclude<Admission['kind'], 'route' | 'hold'>, (instanceId: string) => ApiError> = {
  offline: (id) => failureError('instance_offline', `instance '${id}' is not connected`),
  model_down: (id) => failureError('model_unreachable', modelUnreachable(id)),
  hold_full: () =>
    new ApiError(429, 'too many requests are waiting for this instance to connect', {
      code: 'hold_queue_full',
      headers: { 'retry-after': '5' },
    }),
  // Another node may have room.
  node_hold_full: () =>
    new ApiError(503, 'this registry node holds too many requests waiting for their instances; retry', {
      code: 'node_busy',
      headers: { 'retry-after': '2' },
    }),
};

/**
 * Whether a chat is taken on, in one step: who calls (an access key, 401) and what they may ask
 * (the policy), the address's and the instance's rates (429), whether it can be routed or held
 * (503 / 429), the key's limits (429), and a slot among the node's and the address's chats in
 * flight (503 / 429) — in that order, so a refused chat costs none of the later ones.
 */
@Injectable()
export class ChatAdmission {
  constructor(
    private readonly access: ChatAccess,
    private readonly limits: LimitsService,
    private readonly router: ChatRouter,
  ) {}

  async admit(chat: ChatToAdmit): Promise<AdmittedChat> {
    const { instanceId, entry, hostBody } = chat;
    const key = await this.access.identify(instanceId, entry.visibility, chat.authorization, chat.ip);
    const endpoint = chat.http?.endpoint ?? 'chat';
    assertEndpointAllowed(entry.policy, endpoint);
    if (key?.endpoints && !key.endpoints.has(endpoint))
      throw new ApiError(403, `this access key may not call ${endpoint}`, { code: 'endpoint_not_allowed' });
    if (entry.policy || key?.models) applyChatPolicy(hostBody, chat.body, entry.policy, key);
    const address = addressKey(chat.ip);
    this.limits.assertChatRate(address, instanceId);
    const admission = await this.router.admission(chat, entry.lastSeenAt).catch(() => {
      // Redis unreachable: we cannot know where the host is, which is a 503, not a 500.
      throw new ApiError(503, 'the registry cannot reach its cluster state right now; retry', {
        code: 'cluster_unavailable',
        headers: { 'retry-after': '2' },
      });
    });
    if (admission.kind !== 'route' && admission.kind !== 'hold') throw REFUSALS[admission.kind](instanceId);
    const keyed = key ? await this.access.admit(key, chat.requestId, hostBody) : null;
    let slot: ChatSlot;
    try {
      slot = this.limits.chatStarting(address, chat.bodyBytes);
    } catch (err) {
      keyed?.cancel();
      throw err;
    }
    return {
      route: admission.route,
      key,
      meter: keyed?.meter ?? null,
      release: (summary) => {
        this.limits.chatEnded(slot);
        return keyed ? { ...summary, ...keyed.finished(summary) } : summary;
      },
    };
  }
}
