import { endpointRows, fillPeriods, periodLabel, refusedBreakdown, usageWindow } from './usage-periods';

describe('console usage periods', () => {
  it('lists the endpoints with usage chat first, in a fixed order, labelled, and none for an old registry', () => {
    const usage = (requests: number) => ({
      requests,
      errors: 0,
      prompt_tokens: requests,
      completion_tokens: 0,
      refused: { 401: 0, 403: 0, 422: 0, 429: 0, 503: 0 },
    });
    // The registry's JSON lists them alphabetically; the table keeps one order whatever it gets.
    const rows = endpointRows({ messages: usage(1), embeddings: usage(2), chat: usage(3) });
    expect(rows.map((r) => [r.endpoint, r.label, r.usage.requests])).toEqual([
      ['chat', 'Chat', 3],
      ['embeddings', 'Embeddings', 2],
      ['messages', 'Messages (Anthropic)', 1],
    ]);
    expect(endpointRows(undefined)).toEqual([]);
  });

  it('asks for whole UTC periods ending with the current one', () => {
    const now = Date.parse('2026-11-29T10:17:42.123Z');
    expect(usageWindow('minute', now)).toEqual({
      from: new Date('2026-11-29T09:18:00Z'),
      to: new Date('2026-11-29T10:18:00Z'),
    });
    expect(usageWindow('day', now)).toEqual({
      from: new Date('2026-10-31T00:00:00Z'),
      to: new Date('2026-11-30T00:00:00Z'),
    });
  });

  it('fills the periods without chats with zeros and keeps the reported ones in place', () => {
    const reported = {
      start: '2026-11-29T09:00:00Z',
      requests: 3,
      errors: 1,
      prompt_tokens: 30,
      completion_tokens: 12,
      avg_ttft_ms: 250,
      refused: { 401: 0, 403: 0, 422: 0, 429: 0, 503: 0 },
    };
    const filled = fillPeriods(
      [reported],
      'hour',
      new Date('2026-11-29T08:00:00Z'),
      new Date('2026-11-29T11:00:00Z'),
    );
    expect(filled.map((p) => [p.start, p.requests])).toEqual([
      ['2026-11-29T08:00:00.000Z', 0],
      ['2026-11-29T09:00:00Z', 3],
      ['2026-11-29T10:00:00.000Z', 0],
    ]);
  });

  it('labels hours with their date: the same hour of two days reads differently', () => {
    const yesterday = periodLabel('2026-11-28T14:00:00Z', 'hour');
    expect(yesterday).not.toBe(periodLabel('2026-11-29T14:00:00Z', 'hour'));
    expect(yesterday).toContain(String(new Date('2026-11-28T14:00:00Z').getDate()));
  });

  it('names the statuses of refused calls that occurred', () => {
    expect(refusedBreakdown({ 401: 3, 403: 0, 422: 0, 429: 1, 503: 0 })).toBe('401: 3, 429: 1');
  });
});
