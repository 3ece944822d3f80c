import { ApiError } from '../common/http-errors';
import type { AppConfig } from '../config/app-config';
import type { KeyCounts } from './keys.repository';

/** The window KEY_CREATES_PER_HOUR counts in. */
export const CREATION_WINDOW_MS = 3_600_000;

/**
 * Why an instance may not have one more key now, or null. Revoked and expired keys count toward
 * `maxStored` until they are purged, so a create/revoke loop stops there; `createsPerHour` spaces
 * such a loop out (429 with Retry-After until the oldest creation of the last hour leaves it).
 */
export function keyCreationRefusal(
  counts: KeyCounts,
  limits: AppConfig['keys'],
  now: number,
): ApiError | null {
  if (counts.live >= limits.maxPerInstance)
    return new ApiError(
      409,
      `an instance may have at most ${limits.maxPerInstance} keys that are neither revoked nor expired; revoke one first`,
      { code: 'too_many_keys' },
    );
  if (counts.stored >= limits.maxStoredPerInstance)
    return new ApiError(
      409,
      `an instance may keep at most ${limits.maxStoredPerInstance} keys, revoked and expired ones included until they are deleted ${limits.retentionDays} days later`,
      { code: 'too_many_keys' },
    );
  if (counts.recent >= limits.createsPerHour) {
    const freedAt = (counts.oldestRecent?.getTime() ?? now) + CREATION_WINDOW_MS;
    return new ApiError(429, `an instance may create at most ${limits.createsPerHour} keys per hour`, {
      code: 'rate_limited',
      headers: { 'retry-after': String(Math.max(1, Math.ceil((freedAt - now) / 1000))) },
    });
  }
  return null;
}
