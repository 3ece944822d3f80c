import { CapturedBodies, cutToBytes } from './captured-bodies';

const KIB = 1024;

describe('CapturedBodies', () => {
  it('cuts each body to its byte limit, never inside a character, and says so', () => {
    const bodies = new CapturedBodies({ perBody: 10, perInstance: KIB, perNode: 10 * KIB });
    bodies.put('i', 'r1', '0123456789abc', 'short');
    expect(bodies.get('i', 'r1')).toEqual({
      request: '0123456789',
      request_truncated: true,
      response: 'short',
      response_truncated: false,
    });
    // 'é' is two bytes: 4 of them are 8 bytes, a fifth would split at byte 10 → dropped whole.
    expect(cutToBytes('ééééé!', 9)).toEqual({ text: 'éééé', truncated: true });
    expect(cutToBytes('ééééé', 10)).toEqual({ text: 'ééééé', truncated: false });
  });

  it('keeps at most perInstance bytes per instance, dropping that instance’s oldest first', () => {
    const bodies = new CapturedBodies({ perBody: 32 * KIB, perInstance: 100 * KIB, perNode: 10_000 * KIB });
    const text = 'x'.repeat(10 * KIB);
    for (let i = 0; i < 20; i++) bodies.put('a', `r${i}`, text, text);
    bodies.put('b', 'other', 'q', 'a');
    expect(bodies.bytes).toBeLessThanOrEqual(100 * KIB + 200);
    // Each capture costs ~40 KiB (two 10 KiB strings, 2 bytes a character): the last two stay.
    expect(bodies.has('a', 'r19')).toBe(true);
    expect(bodies.has('a', 'r18')).toBe(true);
    expect(bodies.has('a', 'r17')).toBe(false);
    expect(bodies.has('a', 'r0')).toBe(false);
    expect(bodies.get('b', 'other')?.response).toBe('a');
  });

  it('keeps at most perNode bytes, dropping from the least recently active instance first', () => {
    const bodies = new CapturedBodies({ perBody: 32 * KIB, perInstance: 100 * KIB, perNode: 100 * KIB });
    const text = 'x'.repeat(10 * KIB);
    bodies.put('quiet', 'q1', text, text);
    bodies.put('busy', 'b1', text, text);
    bodies.put('busy', 'b2', text, text);
    expect(bodies.has('quiet', 'q1')).toBe(false);
    expect(bodies.has('busy', 'b1')).toBe(true);
    expect(bodies.has('busy', 'b2')).toBe(true);
    expect(bodies.bytes).toBeLessThanOrEqual(100 * KIB);
  });

  it('keeps a single capture even when it alone passes the instance’s bound (it is cut per body first)', () => {
    const bodies = new CapturedBodies({ perBody: 32 * KIB, perInstance: 16 * KIB, perNode: 1_000 * KIB });
    bodies.put('i', 'big', 'x'.repeat(40 * KIB), 'y');
    expect(bodies.get('i', 'big')?.request).toHaveLength(32 * KIB);
    bodies.put('i', 'next', 'q', 'a');
    expect(bodies.has('i', 'big')).toBe(false);
  });

  it('drops everything of an instance at once', () => {
    const bodies = new CapturedBodies();
    bodies.put('i', 'r1', 'q', 'a');
    bodies.put('j', 'r2', 'q', 'a');
    bodies.drop('i');
    expect(bodies.holdsAny('i')).toBe(false);
    expect(bodies.get('i', 'r1')).toBeNull();
    expect(bodies.instances()).toEqual(['j']);
    bodies.drop('j');
    expect(bodies.bytes).toBe(0);
  });
});
