import { ApiError } from '../common/http-errors';
import { loadConfig } from '../config/app-config';
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
    expect(refusal(() => service.chatStarting('192.0.2.1'))).toEqual({ status: 503, retryAfter: '1' });
    service.buffers.used = 999;
    expect(refusal(() => service.chatStarting('192.0.2.1'))).toBeNull();
  });

  it('counts chats in flight per /64 for IPv6 and frees the slot when a chat ends', () => {
    const service = limits({ CHAT_MAX_IN_FLIGHT_PER_IP: '1' });
    const slot = service.chatStarting('2001:db8::1');
    expect(refusal(() => service.chatStarting('2001:db8::2'))).toEqual({ status: 429, retryAfter: '1' });
    expect(refusal(() => service.chatStarting('2001:db8:0:1::1'))).toBeNull();
    service.chatEnded(slot);
    expect(refusal(() => service.chatStarting('2001:db8::2'))).toBeNull();
  });
});
