import { CHAT_FAILURE_CODES, type ChatFailureCode } from '@app/protocol';
import { CHAT_FAILURES, chatFailure, failureError, failureRetryAfter, failureStatus } from './chat-failures';

describe('CHAT_FAILURES', () => {
  it('has one row for every code of the protocol, and no other', () => {
    expect(Object.keys(CHAT_FAILURES).sort()).toEqual([...CHAT_FAILURE_CODES].sort());
  });

  it('answers 502 for a code this version does not know, never undefined', () => {
    expect(failureStatus('brand_new' as ChatFailureCode)).toBe(502);
    expect(failureStatus('toString' as ChatFailureCode)).toBe(502);
    expect(chatFailure('brand_new' as ChatFailureCode)).toEqual(CHAT_FAILURES.node_error);
    expect(failureStatus('node_error')).toBe(502);
    expect(failureStatus('queue_full')).toBe(429);
  });

  it('a row that may wait for a replica may also move the chat to another one', () => {
    expect(CHAT_FAILURE_CODES.filter((c) => CHAT_FAILURES[c].hold && !CHAT_FAILURES[c].failover)).toEqual([]);
  });

  it('turns a row into the answer thrown before a chat is taken on', () => {
    const error = failureError('instance_offline', "instance 'x' is not connected");
    expect(error.getStatus()).toBe(503);
    expect(error.details).toEqual({ code: 'instance_offline', headers: { 'retry-after': '5' } });
    expect(failureError('timeout', 'slow').details.headers).toBeUndefined();
  });

  it('asks a caller over its key’s daily tokens to come back when the UTC day ends', () => {
    const seconds = Number(failureRetryAfter('tokens_per_day_exceeded'));
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(86_400);
  });
});
