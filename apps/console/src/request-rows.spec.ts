import type { InspectedRequest } from '@app/contracts';
import { MAX_ROWS, mergeRows, nextSince, outcomeLabel } from './request-rows';

const row = (id: string, at: number, over: Partial<InspectedRequest> = {}) =>
  ({ id, at: new Date(at).toISOString(), outcome: 'answered', status: 200, ...over }) as InspectedRequest;

describe('inspector rows', () => {
  it('merges polls newest first without repeating a row seen twice', () => {
    const first = mergeRows([], [row('b', 2000), row('a', 1000)]);
    const next = mergeRows(first, [row('c', 3000), row('b', 2000, { status: 201 })]);
    expect(next.map((r) => r.id)).toEqual(['c', 'b', 'a']);
    expect(next[1].status).toBe(201);
  });

  it('keeps at most MAX_ROWS, the newest', () => {
    const many = Array.from({ length: MAX_ROWS + 5 }, (_, i) => row(`r${i}`, i * 10));
    const kept = mergeRows([], many);
    expect(kept).toHaveLength(MAX_ROWS);
    expect(kept[0].id).toBe(`r${MAX_ROWS + 4}`);
  });

  it('asks again from a little before the newest row', () => {
    expect(nextSince([])).toBeUndefined();
    expect(nextSince([row('a', Date.parse('2030-01-01T00:00:10Z'))])).toBe('2030-01-01T00:00:05.000Z');
  });

  it('labels refusals, callers who left and failures', () => {
    expect(outcomeLabel(row('a', 0, { outcome: 'refused', status: 422 }))).toBe('refused by the registry');
    expect(outcomeLabel(row('a', 0, { outcome: 'left' }))).toBe('caller left');
    expect(outcomeLabel(row('a', 0, { outcome: 'failed', status: 502 }))).toBe('failed');
    expect(outcomeLabel(row('a', 0, { outcome: 'failed', status: 200 }))).toBe('failed mid-answer');
  });
});
