import { loadConfig } from '../config/app-config';
import { keyCreationRefusal } from './key-allowance';

const limits = loadConfig({
  KEYS_PER_INSTANCE: '3',
  KEYS_STORED_PER_INSTANCE: '5',
  KEY_CREATES_PER_HOUR: '4',
  KEY_RETENTION_DAYS: '30',
}).keys;
const now = Date.UTC(2026, 11, 6, 12);
const counts = (over: Partial<Parameters<typeof keyCreationRefusal>[0]> = {}) => ({
  stored: 0,
  live: 0,
  recent: 0,
  oldestRecent: null,
  ...over,
});

describe('keyCreationRefusal', () => {
  it('allows a key below every limit', () => {
    expect(keyCreationRefusal(counts({ stored: 4, live: 2, recent: 3 }), limits, now)).toBeNull();
  });

  it('refuses with 409 at KEYS_PER_INSTANCE live keys', () => {
    expect(keyCreationRefusal(counts({ stored: 3, live: 3 }), limits, now)).toMatchObject({
      status: 409,
      message: expect.stringContaining('at most 3 keys that are neither revoked nor expired'),
    });
  });

  it('refuses with 409 at KEYS_STORED_PER_INSTANCE keys, revoked ones included, saying when they go', () => {
    expect(keyCreationRefusal(counts({ stored: 5, live: 0 }), limits, now)).toMatchObject({
      status: 409,
      message: expect.stringContaining('revoked and expired ones included until they are deleted 30 days'),
    });
  });

  it('refuses with 429 at KEY_CREATES_PER_HOUR, Retry-After until the oldest creation is an hour old', () => {
    const refusal = keyCreationRefusal(
      counts({ stored: 4, live: 1, recent: 4, oldestRecent: new Date(now - 3_599_000 + 250) }),
      limits,
      now,
    );
    expect(refusal).toMatchObject({
      status: 429,
      details: { code: 'rate_limited', headers: { 'retry-after': '2' } },
    });
    const justNow = counts({ stored: 4, recent: 4, oldestRecent: new Date(now) });
    expect(keyCreationRefusal(justNow, limits, now)?.details.headers).toEqual({ 'retry-after': '3600' });
  });
});
