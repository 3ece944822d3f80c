import { BatchWriter } from './batch-writer';

/** Counts per key, written to `written` unless `failing`. */
function counter() {
  const written: Array<Record<string, number>> = [];
  const failures: number[] = [];
  let failing = false;
  let writing: Promise<void> | null = null;
  const writer = new BatchWriter<string, number>({
    merge: (earlier, later) => earlier + later,
    write: async (batch) => {
      await writing;
      if (failing) throw new Error('database down');
      written.push(Object.fromEntries(batch));
    },
    failed: (_error, batch) => failures.push(batch.size),
  });
  return {
    writer,
    written,
    failures,
    fail: (value: boolean) => (failing = value),
    holdWrites: () => {
      let release!: () => void;
      writing = new Promise<void>((resolve) => (release = resolve));
      return () => {
        writing = null;
        release();
      };
    },
  };
}

describe('BatchWriter', () => {
  it('merges what is recorded per key and writes it as one batch per flush', async () => {
    const c = counter();
    c.writer.add('a', 1);
    c.writer.add('b', 1);
    c.writer.add('a', 2);
    expect([...c.writer.values()]).toEqual([3, 1]);
    await c.writer.flush();
    await c.writer.flush();
    expect(c.written).toEqual([{ a: 3, b: 1 }]);
    expect([...c.writer.values()]).toEqual([]);
  });

  it('keeps a batch that failed, merged with what came meanwhile, for the next flush', async () => {
    const c = counter();
    c.writer.add('a', 1);
    c.writer.add('b', 5);
    c.fail(true);
    const release = c.holdWrites();
    const flushing = c.writer.flush();
    // Recorded while the failing batch is being written: a new buffer, not the batch.
    c.writer.add('a', 10);
    c.writer.add('c', 1);
    release();
    await flushing;
    expect(c.failures).toEqual([2]);
    expect(c.written).toEqual([]);
    c.fail(false);
    await c.writer.flush();
    expect(c.written).toEqual([{ a: 11, b: 5, c: 1 }]);
  });

  it('merges a failed batch back as the earlier value (a newer heartbeat wins)', async () => {
    const merged: Array<[string, string]> = [];
    const writer = new BatchWriter<string, string>({
      merge: (earlier, later) => {
        merged.push([earlier, later]);
        return later;
      },
      write: () => Promise.reject(new Error('down')),
      failed: () => undefined,
    });
    writer.add('k', 'old');
    const flushing = writer.flush();
    writer.add('k', 'new');
    await flushing;
    expect(merged).toEqual([['old', 'new']]);
    expect([...writer.values()]).toEqual(['new']);
  });

  it('writes on its interval, and what is left when stopped', async () => {
    jest.useFakeTimers();
    try {
      const c = counter();
      c.writer.start(1_000);
      c.writer.add('a', 1);
      await jest.advanceTimersByTimeAsync(1_000);
      expect(c.written).toEqual([{ a: 1 }]);
      c.writer.add('b', 2);
      await c.writer.stop();
      expect(c.written).toEqual([{ a: 1 }, { b: 2 }]);
      c.writer.add('c', 3);
      await jest.advanceTimersByTimeAsync(5_000);
      expect(c.written).toHaveLength(2);
    } finally {
      jest.useRealTimers();
    }
  });
});
