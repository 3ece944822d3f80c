import { CanActivate, Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../common/http-errors';
import { APP_CONFIG, AppConfig } from '../config/app-config';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Operators' endpoints: open without ADMIN_TOKEN, else `Authorization: Bearer <ADMIN_TOKEN>`. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.expected = config.adminToken ? digest(config.adminToken) : null;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const header = context.switchToHttp().getRequest<FastifyRequest>().headers.authorization ?? '';
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
