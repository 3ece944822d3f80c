import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ApiError } from '../common/http-errors';
import { addressKey } from './address-key';
import { BufferBudget } from './buffer-budget';
import { WindowCounter } from './window-counter';

/** A chat's place in the node's and its address's budgets. */
export interface ChatSlot {
  address: string;
  bodyBytes: number;
}

const retryAfter = (ms: number) => String(Math.max(1, Math.ceil(ms / 1000)));

/**
 * Limits on what strangers control: failed authentications (per address and per instance),
 * registrations and chat requests per address, chats in flight and their unread bytes per node,
 * host sockets per address. Addresses are counted by `addressKey` (IPv6 by /64). Credentials are
 * always checked: only *failures* are counted and turned into 429, so nobody sharing an address
 * or flooding an instance with wrong passwords can lock its owner out.
 */
@Injectable()
export class LimitsService {
  /** Unread bytes of every chat on this node (shared with each ChatExchange). */
  readonly buffers: BufferBudget;
  private readonly authByIp: WindowCounter;
  private readonly authByInstance: WindowCounter;
  private readonly registrationsByIp: WindowCounter;
  private readonly chatsByIp: WindowCounter;
  private readonly chatsByInstance: WindowCounter;
  private readonly hostConnectsByIp: WindowCounter;
  private readonly hostConnectsByInstance: WindowCounter;
  private readonly socketsByIp = new Map<string, number>();
  private readonly chatsInFlightByIp = new Map<string, number>();
  private chatsInFlight = 0;
  /** Request bytes of the chats in flight (their bodies are kept for failover until they end). */
  private readonly requestBytesByIp = new Map<string, number>();
  private requestBytes = 0;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    const l = config.limits;
    this.authByIp = new WindowCounter(l.authFailuresPerIpPerMin);
    this.authByInstance = new WindowCounter(l.authFailuresPerInstancePerMin);
    this.registrationsByIp = new WindowCounter(l.registrationsPerIpPerMin);
    this.chatsByIp = new WindowCounter(l.chatsPerIpPerMin);
    this.chatsByInstance = new WindowCounter(l.chatsPerInstancePerMin);
    this.hostConnectsByIp = new WindowCounter(l.hostConnectsPerIpPerMin);
    this.hostConnectsByInstance = new WindowCounter(l.hostConnectsPerInstancePerMin);
    this.buffers = new BufferBudget(l.bufferedBytesPerNode);
  }

  /** After credentials failed: counts the failure; beyond a limit the failure becomes a 429. */
  authFailed(ip: string, instanceId: string | null): ApiError | null {
    const wait = Math.max(
      this.authByIp.hit(addressKey(ip)),
      instanceId ? this.authByInstance.hit(instanceId) : 0,
    );
    return wait > 0 ? this.tooMany('too many failed authentications; slow down', wait) : null;
  }

  assertRegistrationAllowed(ip: string): void {
    const wait = this.registrationsByIp.hit(addressKey(ip));
    if (wait > 0)
      throw this.tooMany('too many registrations from this address; slow down', wait, 'rate_limited');
  }

  /** A chat request from `address` (the caller's `addressKey`) to the instance: 429 past either rate. */
  assertChatRate(address: string, instanceId: string): void {
    const wait = Math.max(this.chatsByIp.hit(address), this.chatsByInstance.hit(instanceId));
    if (wait > 0) throw this.tooMany('too many chat requests; slow down', wait, 'rate_limited');
  }

  /**
   * Takes a slot for a chat from `address` (the caller's `addressKey`) about to start, with its
   * request body's size (release it with `chatEnded`, passing what this returns). A full node answers 503 (another node may have room);
   * a busy address 429. The body is counted because it is kept until the chat ends: a chat queued
   * or held for a replica, or moved to another one, is sent again from it.
   */
  chatStarting(address: string, bodyBytes: number): ChatSlot {
    const l = this.config.limits;
    if (l.chatsInFlightPerNode > 0 && this.chatsInFlight >= l.chatsInFlightPerNode)
      throw this.nodeBusy('this registry node is at its limit of chats in flight; retry');
    if (this.buffers.full)
      throw this.nodeBusy('this registry node holds too many answers its callers have not read; retry');
    if (l.requestBytesPerNode > 0 && this.requestBytes + bodyBytes > l.requestBytesPerNode)
      throw this.nodeBusy('this registry node holds too many request bodies of chats in flight; retry');
    const open = this.chatsInFlightByIp.get(address) ?? 0;
    if (l.chatsInFlightPerIp > 0 && open >= l.chatsInFlightPerIp)
      throw this.tooMany('too many chats in flight from this address', 1_000, 'rate_limited');
    const held = this.requestBytesByIp.get(address) ?? 0;
    if (l.requestBytesPerIp > 0 && held + bodyBytes > l.requestBytesPerIp)
      throw this.tooMany(
        'the chats in flight from this address carry too many request bytes; wait for some to end',
        1_000,
        'rate_limited',
      );
    this.chatsInFlightByIp.set(address, open + 1);
    this.requestBytesByIp.set(address, held + bodyBytes);
    this.chatsInFlight++;
    this.requestBytes += bodyBytes;
    return { address, bodyBytes };
  }

  chatEnded(slot: ChatSlot): void {
    this.chatsInFlight--;
    this.requestBytes -= slot.bodyBytes;
    this.release(this.chatsInFlightByIp, slot.address);
    this.release(this.requestBytesByIp, slot.address, slot.bodyBytes);
  }

  /**
   * An authenticated host connection about to be accepted: each one claims presence and may name a
   * replica of its own, so how often an address or an instance may connect is bounded (429).
   */
  assertHostConnectAllowed(ip: string, instanceId: string): void {
    const wait = Math.max(
      this.hostConnectsByIp.hit(addressKey(ip)),
      this.hostConnectsByInstance.hit(instanceId),
    );
    if (wait > 0) throw this.tooMany('too many host connections; slow down', wait, 'rate_limited');
  }

  /** Takes a socket slot for an address; false when the address is at its limit. */
  acquireSocket(ip: string): boolean {
    const key = addressKey(ip);
    const open = this.socketsByIp.get(key) ?? 0;
    if (this.config.limits.socketsPerIp > 0 && open >= this.config.limits.socketsPerIp) return false;
    this.socketsByIp.set(key, open + 1);
    return true;
  }

  releaseSocket(ip: string): void {
    this.release(this.socketsByIp, addressKey(ip));
  }

  private release(counts: Map<string, number>, key: string, amount = 1): void {
    const open = (counts.get(key) ?? amount) - amount;
    if (open <= 0) counts.delete(key);
    else counts.set(key, open);
  }

  private nodeBusy(message: string): ApiError {
    return new ApiError(503, message, { code: 'node_busy', headers: { 'retry-after': '1' } });
  }

  private tooMany(message: string, waitMs: number, code = 'too_many_attempts'): ApiError {
    return new ApiError(429, message, { code, headers: { 'retry-after': retryAfter(waitMs) } });
  }
}
