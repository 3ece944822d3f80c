import { ApiError } from '../common/http-errors';
import { loadConfig } from '../config/app-config';
import { hashPassword } from '../instances/credentials';
import { InstanceAuthService } from '../instances/instance-auth.service';
import { MemoryInstancesRepository } from '../../../../test/doubles/memory-repositories';
import { addressKey } from './address-key';
import { LimitsService } from './limits.service';

const limits = (env: Record<string, string>) => new LimitsService(loadConfig(env));

function refusal(fn: () => unknown): { status: number; retryAfter?: string } | null {
  try {
    fn();
    return null;
  } catch (error) {
    const e = error as ApiError;
    return { status: e.getStatus(), retryAfter: e.details.headers?.['retry-after'] };
  }
}

describe('LimitsService: chats in flight and unread bytes', () => {
  it('refuses new chats with 503 while the node holds its budget of unread bytes, and admits again below it', () => {
    const service = limits({ NODE_MAX_BUFFERED_BYTES: '1000' });
    service.buffers.used = 1000;
    expect(refusal(() => service.chatStarting(addressKey('192.0.2.1'), 100))).toEqual({
      status: 503,
      retryAfter: '1',
    });
    service.buffers.used = 999;
    expect(refusal(() => service.chatStarting(addressKey('192.0.2.1'), 100))).toBeNull();
  });

  it('counts chats in flight per /64 for IPv6 and frees the slot when a chat ends', () => {
    const service = limits({ CHAT_MAX_IN_FLIGHT_PER_IP: '1' });
    const slot = service.chatStarting(addressKey('2001:db8::1'), 100);
    expect(refusal(() => service.chatStarting(addressKey('2001:db8::2'), 100))).toEqual({
      status: 429,
      retryAfter: '1',
    });
    expect(refusal(() => service.chatStarting(addressKey('2001:db8:0:1::1'), 100))).toBeNull();
    service.chatEnded(slot);
    expect(refusal(() => service.chatStarting(addressKey('2001:db8::2'), 100))).toBeNull();
  });
});

describe('LimitsService: request bodies of the chats in flight', () => {
  it('refuses a chat whose body takes its address past its budget (429), or the node past its own (503)', () => {
    const service = limits({ CHAT_MAX_REQUEST_BYTES_PER_IP: '1000', NODE_MAX_REQUEST_BYTES: '1500' });
    const first = service.chatStarting(addressKey('192.0.2.1'), 600);
    expect(refusal(() => service.chatStarting(addressKey('192.0.2.1'), 500))).toEqual({
      status: 429,
      retryAfter: '1',
    });
    const other = service.chatStarting(addressKey('192.0.2.2'), 800);
    // Each address is within its own budget, but the node holds 1400 of its 1500.
    expect(refusal(() => service.chatStarting(addressKey('192.0.2.3'), 200))).toEqual({
      status: 503,
      retryAfter: '1',
    });
    service.chatEnded(first);
    expect(refusal(() => service.chatStarting(addressKey('192.0.2.1'), 500))).toBeNull();
    service.chatEnded(other);
  });
});

describe('LimitsService: failed authentications', () => {
  beforeEach(() => jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') }));
  afterEach(() => jest.useRealTimers());

  it('turns failures from one address into 429 past the limit, counting an IPv6 /64 as one address', () => {
    const service = limits({ AUTH_FAILURES_PER_IP_PER_MIN: '2', AUTH_FAILURES_PER_INSTANCE_PER_MIN: '0' });
    expect(service.authFailed('2001:db8::1', 'a')).toBeNull();
    expect(service.authFailed('2001:db8::ffff', 'b')).toBeNull();
    const refused = service.authFailed('2001:db8::2', 'c');
    expect(refused?.getStatus()).toBe(429);
    expect(refused?.details).toMatchObject({ code: 'too_many_attempts', headers: { 'retry-after': '60' } });
    expect(service.authFailed('2001:db8:0:1::1', 'c')).toBeNull();
    expect(service.authFailed('192.0.2.1', null)).toBeNull();
  });

  it('turns failures against one instance into 429 whatever address they come from', () => {
    const service = limits({ AUTH_FAILURES_PER_IP_PER_MIN: '0', AUTH_FAILURES_PER_INSTANCE_PER_MIN: '2' });
    expect(service.authFailed('192.0.2.1', 'target')).toBeNull();
    expect(service.authFailed('192.0.2.2', 'target')).toBeNull();
    expect(service.authFailed('192.0.2.3', 'target')?.getStatus()).toBe(429);
    expect(service.authFailed('192.0.2.3', 'other')).toBeNull();
    // A malformed or foreign credential names no instance: only its address is counted.
    expect(service.authFailed('192.0.2.3', null)).toBeNull();
  });

  it('forgets failures once their minute is over', () => {
    const service = limits({ AUTH_FAILURES_PER_IP_PER_MIN: '1' });
    service.authFailed('192.0.2.1', null);
    expect(service.authFailed('192.0.2.1', null)?.getStatus()).toBe(429);
    jest.advanceTimersByTime(60_000);
    expect(service.authFailed('192.0.2.1', null)).toBeNull();
  });

  it('counts failures only: the right password passes from an address over its limit, and successes add nothing', async () => {
    const service = limits({ AUTH_FAILURES_PER_IP_PER_MIN: '1', AUTH_FAILURES_PER_INSTANCE_PER_MIN: '1' });
    const repository = new MemoryInstancesRepository();
    const record = await repository.create({
      id: 'inst',
      uploadName: 'mine',
      passwordHash: hashPassword('right'),
    });
    const auth = new InstanceAuthService(repository, service);
    const owner = { authorization: 'Bearer inst:right', ip: '192.0.2.1' };
    for (let i = 0; i < 5; i++) await expect(auth.authenticate(owner, 'inst')).resolves.toBe(record);
    await expect(
      auth.authenticate({ ...owner, authorization: 'Bearer inst:wrong' }, 'inst'),
    ).rejects.toMatchObject({
      status: 401,
    });
    await expect(
      auth.authenticate({ ...owner, authorization: 'Bearer inst:wrong' }, 'inst'),
    ).rejects.toMatchObject({
      status: 429,
    });
    await expect(auth.authenticate(owner, 'inst')).resolves.toBe(record);
  });
});

describe('LimitsService: chat and registration rates', () => {
  beforeEach(() => jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') }));
  afterEach(() => jest.useRealTimers());

  it('limits chat requests per caller address (IPv6 by /64) with 429 and Retry-After', () => {
    const service = limits({ CHAT_RATE_PER_IP_PER_MIN: '1' });
    expect(refusal(() => service.assertChatRate(addressKey('2001:db8::1'), 'a'))).toBeNull();
    expect(refusal(() => service.assertChatRate(addressKey('2001:db8::2'), 'b'))).toEqual({
      status: 429,
      retryAfter: '60',
    });
    expect(refusal(() => service.assertChatRate(addressKey('2001:db8:0:1::1'), 'b'))).toBeNull();
    jest.advanceTimersByTime(30_000);
    expect(refusal(() => service.assertChatRate(addressKey('2001:db8::3'), 'c'))).toEqual({
      status: 429,
      retryAfter: '30',
    });
  });

  it('limits chat requests per instance whatever address they come from', () => {
    const service = limits({ CHAT_RATE_PER_INSTANCE_PER_MIN: '2' });
    expect(refusal(() => service.assertChatRate(addressKey('192.0.2.1'), 'inst'))).toBeNull();
    expect(refusal(() => service.assertChatRate(addressKey('192.0.2.2'), 'inst'))).toBeNull();
    expect(refusal(() => service.assertChatRate(addressKey('192.0.2.3'), 'inst'))?.status).toBe(429);
    expect(refusal(() => service.assertChatRate(addressKey('192.0.2.3'), 'other'))).toBeNull();
  });

  it('leaves chats unlimited by default', () => {
    const service = limits({});
    for (let i = 0; i < 1_000; i++)
      expect(refusal(() => service.assertChatRate(addressKey('192.0.2.1'), 'inst'))).toBeNull();
  });

  it('limits registrations per address', () => {
    const service = limits({ REGISTER_PER_IP_PER_MIN: '1' });
    expect(refusal(() => service.assertRegistrationAllowed('192.0.2.1'))).toBeNull();
    expect(refusal(() => service.assertRegistrationAllowed('192.0.2.1'))).toEqual({
      status: 429,
      retryAfter: '60',
    });
    expect(refusal(() => service.assertRegistrationAllowed('192.0.2.2'))).toBeNull();
  });
});

describe('LimitsService: host sockets per address', () => {
  it('refuses a socket past the limit per address (IPv6 by /64, mapped IPv4 as IPv4) until one is released', () => {
    const service = limits({ WS_MAX_SOCKETS_PER_IP: '2' });
    expect(service.acquireSocket('2001:db8::1')).toBe(true);
    expect(service.acquireSocket('2001:db8::2')).toBe(true);
    expect(service.acquireSocket('2001:db8::3')).toBe(false);
    expect(service.acquireSocket('2001:db8:0:1::1')).toBe(true);
    service.releaseSocket('2001:db8::1');
    expect(service.acquireSocket('2001:db8::3')).toBe(true);
    expect(service.acquireSocket('192.0.2.1')).toBe(true);
    expect(service.acquireSocket('::ffff:192.0.2.1')).toBe(true);
    expect(service.acquireSocket('192.0.2.1')).toBe(false);
  });

  it('a release never frees more than was taken', () => {
    const service = limits({ WS_MAX_SOCKETS_PER_IP: '1' });
    service.releaseSocket('192.0.2.1');
    expect(service.acquireSocket('192.0.2.1')).toBe(true);
    expect(service.acquireSocket('192.0.2.1')).toBe(false);
  });

  it('0 means no limit', () => {
    const service = limits({ WS_MAX_SOCKETS_PER_IP: '0' });
    for (let i = 0; i < 100; i++) expect(service.acquireSocket('192.0.2.1')).toBe(true);
  });
});

describe('LimitsService: host connections per minute', () => {
  it('limits connects per address (IPv6 by /64) and per instance, with 429 and Retry-After', () => {
    const service = limits({ HOST_CONNECTS_PER_IP_PER_MIN: '2', HOST_CONNECTS_PER_INSTANCE_PER_MIN: '3' });
    expect(refusal(() => service.assertHostConnectAllowed('2001:db8::1', 'a'))).toBeNull();
    expect(refusal(() => service.assertHostConnectAllowed('2001:db8::2', 'b'))).toBeNull();
    const refused = refusal(() => service.assertHostConnectAllowed('2001:db8::3', 'c'));
    expect(refused?.status).toBe(429);
    expect(Number(refused?.retryAfter)).toBeGreaterThan(0);
    // Other addresses, same instance: its own limit.
    expect(refusal(() => service.assertHostConnectAllowed('192.0.2.1', 'a'))).toBeNull();
    expect(refusal(() => service.assertHostConnectAllowed('192.0.2.2', 'a'))).toBeNull();
    expect(refusal(() => service.assertHostConnectAllowed('192.0.2.3', 'a'))?.status).toBe(429);
  });
});

describe('LimitsService: chats in flight per node', () => {
  it('answers 503 at the node limit, whatever the address, and admits again when one ends', () => {
    const service = limits({ CHAT_MAX_IN_FLIGHT: '2' });
    const first = service.chatStarting(addressKey('192.0.2.1'), 100);
    service.chatStarting(addressKey('192.0.2.2'), 100);
    expect(refusal(() => service.chatStarting(addressKey('192.0.2.3'), 100))).toEqual({
      status: 503,
      retryAfter: '1',
    });
    service.chatEnded(first);
    expect(refusal(() => service.chatStarting(addressKey('192.0.2.3'), 100))).toBeNull();
  });

  it('a refused chat takes no slot', () => {
    const service = limits({ CHAT_MAX_IN_FLIGHT: '1', CHAT_MAX_IN_FLIGHT_PER_IP: '1' });
    const slot = service.chatStarting(addressKey('192.0.2.1'), 100);
    expect(refusal(() => service.chatStarting(addressKey('192.0.2.1'), 100))?.status).toBe(503);
    service.chatEnded(slot);
    expect(refusal(() => service.chatStarting(addressKey('192.0.2.1'), 100))).toBeNull();
  });
});
