import { SingleFlight } from './single-flight';

/** A read the test answers when it chooses. */
function held<V>() {
  let answer!: (value: V) => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<V>((resolve, reject) => {
    answer = resolve;
    fail = reject;
  });
  return { read: jest.fn(() => promise), answer, fail };
}

describe('SingleFlight', () => {
  it('callers of one key share the read under way; another key reads on its own', async () => {
    const flights = new SingleFlight<string>();
    const a = held<string>();
    const b = held<string>();
    const first = flights.run('a', a.read);
    const second = flights.run('a', a.read);
    const other = flights.run('b', b.read);
    expect(a.read).toHaveBeenCalledTimes(1);
    expect(b.read).toHaveBeenCalledTimes(1);
    expect(flights.size).toBe(2);
    a.answer('A');
    b.answer('B');
    expect(await Promise.all([first, second, other])).toEqual(['A', 'A', 'B']);
    expect(flights.size).toBe(0);
  });

  it('reads again once a read ended, also after a failure (which every waiting caller gets)', async () => {
    const flights = new SingleFlight<string>();
    const failing = held<string>();
    const one = flights.run('k', failing.read);
    const two = flights.run('k', failing.read);
    failing.fail(new Error('database down'));
    await expect(one).rejects.toThrow('database down');
    await expect(two).rejects.toThrow('database down');
    const next = held<string>();
    const three = flights.run('k', next.read);
    expect(next.read).toHaveBeenCalledTimes(1);
    next.answer('ok');
    expect(await three).toBe('ok');
  });

  it('after forget, the next caller starts a new read, and the old one settles as not current', async () => {
    const flights = new SingleFlight<string>();
    const settled: Array<[string, boolean, string]> = [];
    const note = (value: string, current: boolean, key: string) => settled.push([value, current, key]);
    const old = held<string>();
    const before = flights.run('k', old.read, note);
    flights.forget('k');
    const fresh = held<string>();
    const after = flights.run('k', fresh.read, note);
    expect(fresh.read).toHaveBeenCalledTimes(1);
    old.answer('stale');
    fresh.answer('new');
    expect([await before, await after]).toEqual(['stale', 'new']);
    expect(settled).toEqual([
      ['stale', false, 'k'],
      ['new', true, 'k'],
    ]);
    // The old read ending did not remove the new one's entry early, nor leave one behind.
    expect(flights.size).toBe(0);
  });
});
