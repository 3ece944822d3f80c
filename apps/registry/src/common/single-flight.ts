/**
 * Concurrent reads of the same thing share one: while a read of `key` is under way, every other
 * caller waits for it instead of starting its own. A cache in front of the database otherwise
 * sends one query per waiting caller each time an entry expires (64 concurrent chats to one
 * instance: 64 identical queries every few seconds). At most one read per key is in flight, so the
 * map holds no more entries than there are callers waiting.
 */
export class SingleFlight<V> {
  private readonly flights = new Map<string, Promise<V>>();

  /** Reads under way. */
  get size(): number {
    return this.flights.size;
  }

  /**
   * Joins the read of `key` under way, or starts `read()`. `settled` runs once, when a read this
   * call started succeeds (one function for every key, so a call allocates no closure for it), with `current` false if `forget(key)` or `clear()` came meanwhile (its
   * value may be older than what was forgotten: do not cache it).
   */
  run(
    key: string,
    read: () => Promise<V>,
    settled?: (value: V, current: boolean, key: string) => void,
  ): Promise<V> {
    const flying = this.flights.get(key);
    if (flying) return flying;
    const promise: Promise<V> = read().then(
      (value) => {
        const current = this.flights.get(key) === promise;
        if (current) this.flights.delete(key);
        settled?.(value, current, key);
        return value;
      },
      (error: unknown) => {
        if (this.flights.get(key) === promise) this.flights.delete(key);
        throw error;
      },
    );
    this.flights.set(key, promise);
    return promise;
  }

  /** The next caller for `key` starts a new read (the one under way still answers its callers). */
  forget(key: string): void {
    this.flights.delete(key);
  }

  clear(): void {
    this.flights.clear();
  }
}
