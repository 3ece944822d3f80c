import { Writable } from 'node:stream';
import { corkForThisTick, TickBatch } from './tick-batch';

const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve));

describe('TickBatch', () => {
  it('hands over what one tick added in one flush, before the tick is over', async () => {
    const flushed: string[][] = [];
    const batch = new TickBatch<string>((items) => flushed.push(items));
    const input = ['a'];
    batch.add(input);
    batch.add(['b', 'c']);
    input.push('changed later');
    expect(flushed).toEqual([]);
    await nextTick();
    expect(flushed).toEqual([['a', 'b', 'c']]);
    batch.add(['d']);
    await nextTick();
    expect(flushed).toEqual([['a', 'b', 'c'], ['d']]);
  });

  it('take() empties the batch at once, and its scheduled flush then sends nothing', async () => {
    const flushed: number[][] = [];
    const batch = new TickBatch<number>((items) => flushed.push(items));
    expect(batch.take()).toBeNull();
    batch.add([1, 2]);
    expect(batch.take()).toEqual([1, 2]);
    await nextTick();
    expect(flushed).toEqual([]);
  });
});

describe('corkForThisTick', () => {
  /** Counts the stream's writes: one per chunk, or one for several written together. */
  const countingStream = () => {
    const writes: number[] = [];
    const stream = new Writable({
      writev(chunks, callback) {
        writes.push(chunks.length);
        callback();
      },
      write(_chunk, _encoding, callback) {
        writes.push(1);
        callback();
      },
    });
    return { stream, writes };
  };

  it('lets what one tick writes leave in one write, uncorked before the tick is over', async () => {
    const { stream, writes } = countingStream();
    for (const chunk of ['a', 'b', 'c']) {
      corkForThisTick(stream);
      stream.write(chunk);
    }
    expect(writes).toEqual([]);
    await nextTick();
    expect(writes).toEqual([3]);
    expect(stream.writableCorked).toBe(0);
  });

  it('leaves a stream someone else corked as it is', async () => {
    const { stream, writes } = countingStream();
    stream.cork();
    corkForThisTick(stream);
    stream.write('a');
    await nextTick();
    expect(stream.writableCorked).toBe(1);
    expect(writes).toEqual([]);
    stream.uncork();
    expect(writes).toEqual([1]);
  });
});
