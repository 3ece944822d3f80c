import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ApiError } from '../common/http-errors';
import { WindowCounter } from './window-counter';

const retryAfter = (ms: number) => String(Math.max(1, Math.ceil(ms / 1000)));

/**
 * Limits on what strangers control: failed authentications (per IP and per instance), chat
 * requests (per caller IP and per instance) and host sockets per IP. A correct password is never
 * refused because of someone else's failures on the same instance: the per-instance limit only
 * turns further *failures* into 429, so nobody can lock an owner out of their instance.
 */
@Injectable()
export class LimitsService {
  private readonly authByIp: WindowCounter;
  private readonly authByInstance: WindowCounter;
  private readonly chatsByIp: WindowCounter;
  private readonly chatsByInstance: WindowCounter;
  private readonly socketsByIp = new Map<string, number>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    const l = config.limits;
    this.authByIp = new WindowCounter(l.authFailuresPerIpPerMin);
    this.authByInstance = new WindowCounter(l.authFailuresPerInstancePerMin);
    this.chatsByIp = new WindowCounter(l.chatsPerIpPerMin);
    this.chatsByInstance = new WindowCounter(l.chatsPerInstancePerMin);
  }

  /** Before checking credentials: an IP that failed too often gets 429 without a check. */
  assertAuthAllowed(ip: string): void {
    const wait = this.authByIp.blockedFor(ip);
    if (wait > 0) throw this.tooMany('too many failed authentications from this address', wait);
  }

  /** After credentials failed: counts the failure; beyond a limit the failure becomes a 429. */
  authFailed(ip: string, instanceId: string | null): ApiError | null {
    const wait = Math.max(this.authByIp.hit(ip), instanceId ? this.authByInstance.hit(instanceId) : 0);
    return wait > 0 ? this.tooMany('too many failed authentications; slow down', wait) : null;
  }

  assertChatAllowed(ip: string, instanceId: string): void {
    const wait = Math.max(this.chatsByIp.hit(ip), this.chatsByInstance.hit(instanceId));
    if (wait > 0) throw this.tooMany('too many chat requests; slow down', wait, 'rate_limited');
  }

  /** Takes a socket slot for an IP; false when the IP is at its limit. */
  acquireSocket(ip: string): boolean {
    const open = this.socketsByIp.get(ip) ?? 0;
    if (this.config.limits.socketsPerIp > 0 && open >= this.config.limits.socketsPerIp) return false;
    this.socketsByIp.set(ip, open + 1);
    return true;
  }

  releaseSocket(ip: string): void {
    const open = (this.socketsByIp.get(ip) ?? 1) - 1;
    if (open <= 0) this.socketsByIp.delete(ip);
    else this.socketsByIp.set(ip, open);
  }

  private tooMany(message: string, waitMs: number, code = 'too_many_attempts'): ApiError {
    return new ApiError(429, message, { code, headers: { 'retry-after': retryAfter(waitMs) } });
  }
}
