import { InFlightTable } from './in-flight-table';

describe('InFlightTable', () => {
  const a = { name: 'socket a' };
  const b = { name: 'socket b' };
  let table: InFlightTable<typeof a>;

  beforeEach(() => (table = new InFlightTable()));

  it('tracks each chat with its own cancellation', () => {
    const one = table.add('r1', a);
    const two = table.add('r2', a);
    expect(table.size).toBe(2);
    expect(table.has('r1')).toBe(true);
    expect(one.cancellation).not.toBe(two.cancellation);
    expect(one.conn).toBe(a);
  });

  it('cancel aborts that chat only, and only for the socket it came in on', () => {
    const one = table.add('r1', a);
    const two = table.add('r2', a);
    expect(table.cancel('r1', b)).toBeUndefined();
    expect(one.cancellation.aborted).toBe(false);

    expect(table.cancel('r1', a)).toBe(one);
    expect(one.cancellation.aborted).toBe(true);
    expect(two.cancellation.aborted).toBe(false);
    expect(table.has('r1')).toBe(false);
    // A second cancel for the same id finds nothing: the chat is already over.
    expect(table.cancel('r1', a)).toBeUndefined();
  });

  it('aborts every chat of a socket that is gone, and no other', () => {
    const onA = [table.add('r1', a), table.add('r2', a)];
    const onB = table.add('r3', b);
    expect(table.abortOn(a)).toEqual(onA);
    expect(onA.every((e) => e.cancellation.aborted)).toBe(true);
    expect(onB.cancellation.aborted).toBe(false);
    expect(table.busyOn(a)).toBe(false);
    expect(table.busyOn(b)).toBe(true);
    expect(table.size).toBe(1);
  });

  it('abortAll aborts and forgets everything (shutdown)', () => {
    const entries = [table.add('r1', a), table.add('r2', b)];
    expect(table.abortAll()).toEqual(entries);
    expect(entries.every((e) => e.cancellation.aborted)).toBe(true);
    expect(table.size).toBe(0);
  });

  it('a chat that ended leaves the table without aborting; a newer chat with its id stays', () => {
    const first = table.add('r1', a);
    table.finished(first);
    expect(table.has('r1')).toBe(false);
    expect(first.cancellation.aborted).toBe(false);

    const cancelled = table.add('r2', a);
    table.cancel('r2', a);
    const reused = table.add('r2', a);
    table.finished(cancelled);
    expect(table.has('r2')).toBe(true);
    expect(reused.cancellation.aborted).toBe(false);
  });
});
