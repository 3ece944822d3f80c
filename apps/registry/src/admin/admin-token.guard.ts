import { CanActivate, Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../common/http-errors';
import { APP_CONFIG, AppConfig } from '../config/app-config';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6. */
export const isLoopback = (address: string): boolean =>
  /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address) || address === '::1';

/**
 * Operators' endpoints. With ADMIN_TOKEN set: `Authorization: Bearer <ADMIN_TOKEN>`, from anywhere.
 * Without it: only from this machine (loopback, as the client address is worked out with
 * TRUST_PROXY), so a node reachable from the internet does not show its cluster to strangers.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.expected = config.adminToken ? digest(config.adminToken) : null;
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (!this.expected) {
      if (isLoopback(request.ip)) return true;
      throw new ApiError(
        403,
        'this endpoint is open to this machine only; set ADMIN_TOKEN to reach it from elsewhere',
        {
          code: 'admin_token_not_set',
        },
      );
    }
    const header = request.headers.authorization ?? '';
    const token = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
    // Fixed-length digests, compared in constant time: the token's length and prefix leak nothing.
    if (token && timingSafeEqual(digest(token), this.expected)) return true;
    throw new ApiError(
      401,
      token ? 'admin token is wrong' : 'this endpoint needs Authorization: Bearer <ADMIN_TOKEN>',
      {
        code: 'admin_token_required',
        headers: { 'www-authenticate': 'Bearer' },
      },
    );
  }
}
