import fc from 'fast-check';
import { isChatFailureCode } from '@app/protocol';
import {
  decodeBroadcast,
  decodeEventsReply,
  decodeNodeReply,
  decodeNodeRequest,
  encodeEventsReply,
  EVENTS_REPLY_MARKER,
  NODE_ERROR_MESSAGE,
} from './node-messages';

const nodeError = (requestId: string, seq: number) => ({
  kind: 'error',
  requestId,
  seq,
  code: 'node_error',
  message: NODE_ERROR_MESSAGE,
});

describe('decodeNodeReply', () => {
  it('passes valid replies through', () => {
    const replies = [
      { kind: 'chunks', requestId: 'r', seq: 0, lines: ['a', 'b'] },
      { kind: 'chunks', requestId: 'r', seq: 1, lines: ['c'], done: true },
      { kind: 'done', requestId: 'r', seq: 2 },
      { kind: 'error', requestId: 'r', seq: 3, code: 'timeout', message: 'too slow' },
    ];
    for (const reply of replies) expect(decodeNodeReply(reply)).toEqual({ message: reply });
  });

  it('turns an unknown failure code (a newer node) into node_error and says why for the log', () => {
    const decoded = decodeNodeReply({
      kind: 'error',
      requestId: 'r',
      seq: 4,
      code: 'brand_new',
      message: 'x',
    });
    expect(decoded?.message).toEqual(nodeError('r', 4));
    expect(decoded?.problem).toContain('brand_new');
  });

  it('turns a malformed reply that names its request into node_error instead of dropping it', () => {
    const malformed = [
      { kind: 'error', requestId: 'r', seq: 0 },
      { kind: 'error', requestId: 'r', seq: 0, code: 'timeout', message: { secret: 1 } },
      { kind: 'error', requestId: 'r', seq: 0, code: 42, message: 'x' },
      { kind: 'chunks', requestId: 'r', seq: 0 },
      { kind: 'chunks', requestId: 'r', seq: 0, lines: [1, 2] },
      { kind: 'chunks', requestId: 'r', seq: 0, lines: ['a'], done: 'yes' },
      { kind: 'brand_new_kind', requestId: 'r', seq: 0 },
    ];
    for (const reply of malformed) expect(decodeNodeReply(reply)?.message).toEqual(nodeError('r', 0));
  });

  it('drops what names no request', () => {
    for (const value of [null, 'x', [], { kind: 'done' }, { kind: 'done', requestId: 'r', seq: 1.5 }])
      expect(decodeNodeReply(value)).toBeNull();
  });

  it('never throws, and whatever it returns has a status', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            kind: fc.oneof(fc.constantFrom('chunks', 'done', 'error'), fc.anything()),
            requestId: fc.oneof(fc.string(), fc.anything()),
            seq: fc.oneof(fc.nat(), fc.anything()),
            lines: fc.oneof(fc.array(fc.string()), fc.anything()),
            done: fc.anything(),
            code: fc.oneof(fc.string(), fc.anything()),
            message: fc.anything(),
          },
          { requiredKeys: [] },
        ),
        (value) => {
          const message = decodeNodeReply(value)?.message;
          if (message?.kind === 'error') {
            expect(isChatFailureCode(message.code)).toBe(true);
            expect(typeof message.message).toBe('string');
          }
        },
      ),
    );
  });
});

describe('decodeNodeRequest', () => {
  it('accepts the three kinds and drops anything else', () => {
    const chat = { kind: 'chat', requestId: 'r', from: 'a', instanceId: 'i', epoch: 1, body: {} };
    const evict = { kind: 'evict', from: 'a', instanceId: 'i', epoch: 1, reason: 'deleted' };
    expect(decodeNodeRequest(chat)).toEqual(chat);
    expect(decodeNodeRequest(evict)).toEqual(evict);
    expect(decodeNodeRequest({ ...chat, kind: 'cancel' })).toEqual({ ...chat, kind: 'cancel' });
    expect(decodeNodeRequest({ ...chat, requestId: undefined })).toBeNull();
    expect(decodeNodeRequest({ ...chat, epoch: '1' })).toBeNull();
    expect(decodeNodeRequest({ kind: 'done', requestId: 'r', seq: 0 })).toBeNull();
  });
});

describe('decodeBroadcast', () => {
  it('passes an object that names its sender, and drops anything else', () => {
    const message = { from: 'node-b', kind: 'key_revoked', hash: 'ab' };
    expect(decodeBroadcast(message)).toEqual({ message, from: 'node-b' });
    for (const value of [null, 'node-b', [], {}, { from: '' }, { from: 7 }, [{ from: 'node-b' }]])
      expect(decodeBroadcast(value)).toBeNull();
  });
});

describe('decodeNodeRequest: the inspector', () => {
  const inspect = { kind: 'inspect', requestId: 'q1', from: 'n2', instanceId: 'i', since: 0, limit: 200 };

  it('accepts a query and an answer, and drops them malformed', () => {
    expect(decodeNodeRequest(inspect)).toEqual(inspect);
    expect(decodeNodeRequest({ ...inspect, status: '4xx', keyId: 'k' })).toEqual({
      ...inspect,
      status: '4xx',
      keyId: 'k',
    });
    expect(decodeNodeRequest({ ...inspect, limit: 1.5 })).toBeNull();
    expect(decodeNodeRequest({ ...inspect, since: 'yesterday' })).toBeNull();
    expect(decodeNodeRequest({ ...inspect, status: 4 })).toBeNull();
    const answer = { kind: 'inspected', requestId: 'q1', from: 'n2', instanceId: 'i', rows: [] };
    expect(decodeNodeRequest(answer)).toEqual(answer);
    expect(decodeNodeRequest({ ...answer, rows: {} })).toBeNull();
    expect(decodeNodeRequest({ ...answer, requestId: undefined })).toBeNull();
  });
});

describe('events replies between nodes (bytes, not JSON)', () => {
  it('round-trip with seq, done and the bytes untouched', () => {
    const events = Buffer.from('data: {"x":"é"}\n\n');
    const payload = encodeEventsReply({
      kind: 'events',
      requestId: 'req-9',
      seq: 70_000,
      events,
      done: true,
    });
    expect(payload[0]).toBe(EVENTS_REPLY_MARKER);
    const reply = decodeEventsReply(payload)!;
    expect(reply).toMatchObject({ kind: 'events', requestId: 'req-9', seq: 70_000, done: true });
    expect(reply.events.equals(events)).toBe(true);
    const open = decodeEventsReply(encodeEventsReply({ kind: 'events', requestId: 'r', seq: 0, events }))!;
    expect(open.done).toBeUndefined();
  });

  it('a JSON message is never taken for one, and a truncated one is refused', () => {
    expect(Buffer.from('{"kind":"chunks"}')[0]).not.toBe(EVENTS_REPLY_MARKER);
    expect(decodeEventsReply(Buffer.from([0, 0, 0, 0, 0, 1, 9, 0x72]))).toBeNull();
    expect(decodeEventsReply(Buffer.from([0, 5, 0, 0, 0, 1, 1, 0x72]))).toBeNull();
  });
});
