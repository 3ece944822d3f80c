import { clampHostConcurrency, MAX_HOST_CONCURRENCY } from './host-concurrency';
import { percentile } from './percentile';
import { redactUrl } from './redact-url';

describe('redactUrl', () => {
  it.each([
    ['http://u:p@h/x?password=s', 'http://***@h/x?***'],
    ['redis://user:secret@host:6379/0', 'redis://***@host:6379/0'],
    ['redis://:pa/ss@host:6379', 'redis://***@host:6379'],
    ['ws://host:3000/api/ws/i?password=s%20x', 'ws://host:3000/api/ws/i?***'],
    ['http://127.0.0.1:11434/v1', 'http://127.0.0.1:11434/v1'],
  ])('%s → %s', (raw, printed) => {
    expect(redactUrl(raw)).toBe(printed);
  });
});

describe('clampHostConcurrency', () => {
  it('keeps a whole number in range and turns anything else into one the registry can use', () => {
    expect(clampHostConcurrency(8)).toBe(8);
    expect(clampHostConcurrency(2.7)).toBe(2);
    expect(clampHostConcurrency(MAX_HOST_CONCURRENCY + 1)).toBe(MAX_HOST_CONCURRENCY);
    for (const unusable of [0, -3, NaN, 'x', null, undefined]) expect(clampHostConcurrency(unusable)).toBe(1);
  });
});

describe('percentile', () => {
  it('takes values in any order, by nearest rank', () => {
    const values = [5, 1, 4, 2, 3];
    expect(percentile(values, 50)).toBe(3);
    expect(percentile(values, 100)).toBe(5);
    expect(percentile(values, 0)).toBe(1);
    expect(percentile([], 50)).toBeNaN();
    expect(values).toEqual([5, 1, 4, 2, 3]);
  });
});
