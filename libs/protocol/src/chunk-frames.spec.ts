import { decodeChunkFrame, encodeChunkFrame, eventPayloads, sseEvents } from './chunk-frames';

describe('binary chunk frames', () => {
  it('carry the request id, the done flag and the SSE bytes as they are', () => {
    const events = sseEvents(['{"a":"é"}', '{"b":2}']);
    expect(events).toBe('data: {"a":"é"}\n\ndata: {"b":2}\n\n');
    const frame = decodeChunkFrame(encodeChunkFrame('req-1', events, true));
    expect(frame).not.toBeNull();
    expect(frame!.requestId).toBe('req-1');
    expect(frame!.done).toBe(true);
    expect(frame!.events.toString()).toBe(events);
    expect(eventPayloads(frame!.events)).toEqual(['{"a":"é"}', '{"b":2}']);
  });

  it('may be a bare done, with no events', () => {
    const frame = decodeChunkFrame(encodeChunkFrame('r', '', true))!;
    expect([frame.events.length, frame.done, eventPayloads(frame.events)]).toEqual([0, true, []]);
  });

  it('only the first `count` payloads become events (what follows [DONE] is dropped)', () => {
    expect(sseEvents(['1', '2', '[DONE]'], 2)).toBe('data: 1\n\ndata: 2\n\n');
  });

  it.each([
    ['empty', Buffer.alloc(0)],
    ['another type', Buffer.from([2, 0, 1, 0x72])],
    ['unknown flags', Buffer.from([1, 2, 1, 0x72])],
    ['no request id', Buffer.from([1, 0, 0])],
    ['an id longer than the frame', Buffer.from([1, 0, 9, 0x72])],
    ['events without the data prefix', encodeChunkFrame('r', 'event: x\n\n', false)],
    ['events cut mid-event', encodeChunkFrame('r', 'data: {"a":1}\n', false)],
  ])('refuses a frame that is %s', (_label, bytes) => {
    expect(decodeChunkFrame(bytes)).toBeNull();
  });

  it('refuses to encode an id that does not fit in one byte of length', () => {
    expect(() => encodeChunkFrame('x'.repeat(256), '', true)).toThrow(RangeError);
  });
});
