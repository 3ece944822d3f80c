/**
 * What a request being served is cancelled through: an `AbortSignal` fits it, and so does
 * `Cancellation`, which costs far less per request (a signal is a DOM `EventTarget`: creating one,
 * adding and removing its listener were ~5 % of the agent's CPU at 64 streams).
 */
export interface Abortable {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * One chat's cancel switch (cancel frame, socket lost, shutdown). Like an `AbortSignal`: listeners
 * run once, in order, when `abort()` is first called; one added after that never runs (check
 * `aborted` first).
 */
export class Cancellation implements Abortable {
  private listeners: (() => void)[] = [];
  private done = false;

  get aborted(): boolean {
    return this.done;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (!this.done) this.listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const at = this.listeners.indexOf(listener);
    if (at !== -1) this.listeners.splice(at, 1);
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }
}

/** The error a request cancelled this way fails with (what Node's `signal` option would give). */
export function abortError(): Error {
  return Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
}
