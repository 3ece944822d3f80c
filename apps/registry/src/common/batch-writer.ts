export interface BatchWriterOptions<K, V> {
  /** One value of two recorded for the same key; `earlier` is the writer's own and may be changed and returned. */
  merge(earlier: V, later: V): V;
  /** Writes one batch; rejecting keeps it for the next flush. */
  write(batch: ReadonlyMap<K, V>): Promise<void>;
  /** Says that a batch could not be written (it is kept). */
  failed(error: Error, batch: ReadonlyMap<K, V>): void;
}

/**
 * Write-behind for what is recorded far more often than it should be written (heartbeats, usage):
 * values are merged per key in memory, and every interval the buffer is swapped for an empty one
 * and written as one batch. A batch whose write failed is merged back under what came meanwhile,
 * so the next flush writes both. What is still buffered is written on `stop`.
 */
export class BatchWriter<K, V> {
  private pending = new Map<K, V>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly options: BatchWriterOptions<K, V>) {}

  /** Flushes every `intervalMs` from now on. */
  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and writes what is left. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  add(key: K, value: V): void {
    const earlier = this.pending.get(key);
    this.pending.set(key, earlier === undefined ? value : this.options.merge(earlier, value));
  }

  /** What is recorded and not written yet. Do not keep or change it. */
  values(): IterableIterator<V> {
    return this.pending.values();
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.options.write(batch);
    } catch (error) {
      this.options.failed(error as Error, batch);
      for (const [key, value] of batch) {
        const later = this.pending.get(key);
        this.pending.set(key, later === undefined ? value : this.options.merge(value, later));
      }
    }
  }
}
