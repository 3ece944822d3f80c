import { sseEvents } from '@app/protocol';
import { nextUsageEvent, withoutDroppedUsage } from './usage-events';

const content = (n: number) => `{"choices":[{"delta":{"content":"${n}"}}],"usage":null}`;
const usageOnly = '{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5}}';
const usageOnChunk = '{"choices":[{"delta":{}}],"usage": {"prompt_tokens":1,"completion_tokens":2}}';
const dropUsageOnly = (seen: string[]) => (payload: string) => {
  seen.push(payload);
  return payload === usageOnly;
};

describe('usage events in binary chunk frames', () => {
  it('leaves events without a usage object alone (the same buffer, nothing parsed)', () => {
    const events = Buffer.from(sseEvents([content(1), content(2)]));
    const seen: string[] = [];
    expect(withoutDroppedUsage(events, dropUsageOnly(seen))).toBe(events);
    expect(seen).toEqual([]);
  });

  it('cuts out a usage-only chunk at the end, in the middle, and alone', () => {
    const cases = [
      [
        [content(1), content(2), usageOnly],
        [content(1), content(2)],
      ],
      [
        [content(1), usageOnly, content(2)],
        [content(1), content(2)],
      ],
      [[usageOnly], []],
    ];
    for (const [input, expected] of cases) {
      const seen: string[] = [];
      const out = withoutDroppedUsage(Buffer.from(sseEvents(input)), dropUsageOnly(seen));
      expect(out.toString()).toBe(sseEvents(expected));
      expect(seen).toEqual([usageOnly]);
    }
  });

  it('sees every usage event (both spellings), and keeps the ones it is told to keep', () => {
    const seen: string[] = [];
    const input = [usageOnChunk, content(1), usageOnly, content(2)];
    const out = withoutDroppedUsage(Buffer.from(sseEvents(input)), dropUsageOnly(seen));
    expect(seen).toEqual([usageOnChunk, usageOnly]);
    expect(out.toString()).toBe(sseEvents([usageOnChunk, content(1), content(2)]));
  });

  it('finds the whole event around the match, multi-byte text included', () => {
    const events = Buffer.from(sseEvents(['{"a":"é"}', usageOnly]));
    const span = nextUsageEvent(events, 0)!;
    expect(events.toString('utf8', span.start, span.end)).toBe(`data: ${usageOnly}\n\n`);
    expect(nextUsageEvent(events, span.end)).toBeNull();
  });
});
