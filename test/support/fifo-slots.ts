/**
 * At most `limit` holders at once; the others wait in arrival order (first come, first served).
 * The fake model uses it to serve one chat at a time, like a local model on one GPU.
 */
export class FifoSlots {
  /** Holders now. */
  active = 0;
  /** The most holders there ever were at once. */
  maxActive = 0;
  /** Holders that have started so far. */
  started = 0;
  private readonly queue: Array<() => void> = [];

  /** `limit`: a whole number ≥ 1, or Infinity (every holder starts at once: only counted). */
  constructor(private readonly limit: number) {
    if (limit !== Infinity && (!Number.isInteger(limit) || limit < 1))
      throw new Error('the slot limit must be a whole number ≥ 1');
  }

  /** Entries waiting for a slot. */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Runs `start` once a slot is free (at once if one is and nobody waits). Returns `leave`: call it
   * once when the holder is done, or has gone away while still waiting (then `start` never runs).
   */
  enter(start: () => void): () => void {
    let state: 'waiting' | 'active' | 'left' = 'waiting';
    const begin = () => {
      state = 'active';
      this.active++;
      this.started++;
      this.maxActive = Math.max(this.maxActive, this.active);
      start();
    };
    if (this.active < this.limit && this.queue.length === 0) begin();
    else this.queue.push(begin);
    return () => {
      if (state === 'waiting') {
        const at = this.queue.indexOf(begin);
        if (at !== -1) this.queue.splice(at, 1);
      } else if (state === 'active') {
        this.active--;
        this.next();
      }
      state = 'left';
    };
  }

  private next(): void {
    while (this.active < this.limit && this.queue.length > 0) this.queue.shift()!();
  }
}
