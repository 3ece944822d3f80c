import { performance } from 'node:perf_hooks';
import { Cancellation } from './cancellation';

/** One chat being served, on the socket it came in on. */
export interface InFlight<Conn> {
  id: string;
  conn: Conn;
  /** Aborted on cancel, socket loss or shutdown: the upstream request is dropped. */
  cancellation: Cancellation;
  startedAt: number;
}

/**
 * The chats the agent is serving, by request id. Each has its own cancellation; a chat leaves
 * the table when it ends, is cancelled, or its socket is gone, whichever comes first.
 */
export class InFlightTable<Conn> {
  private readonly requests = new Map<string, InFlight<Conn>>();

  get size(): number {
    return this.requests.size;
  }

  has(id: string): boolean {
    return this.requests.has(id);
  }

  /** Starts tracking a chat that arrived on `conn`. */
  add(id: string, conn: Conn): InFlight<Conn> {
    const entry: InFlight<Conn> = {
      id,
      conn,
      cancellation: new Cancellation(),
      startedAt: performance.now(),
    };
    this.requests.set(id, entry);
    return entry;
  }

  /** The chat ended by itself; a later chat that reused the id is left alone. */
  finished(entry: InFlight<Conn>): void {
    if (this.requests.get(entry.id) === entry) this.requests.delete(entry.id);
  }

  /** Aborts the chat if it still runs on `conn` (a cancel from another socket is not its owner's). */
  cancel(id: string, conn: Conn): InFlight<Conn> | undefined {
    const entry = this.requests.get(id);
    if (!entry || entry.conn !== conn) return undefined;
    this.requests.delete(id);
    entry.cancellation.abort();
    return entry;
  }

  /** The socket is gone: nothing of its chats can reach the caller, so they are all aborted. */
  abortOn(conn: Conn): InFlight<Conn>[] {
    const aborted = [...this.requests.values()].filter((entry) => entry.conn === conn);
    for (const entry of aborted) {
      this.requests.delete(entry.id);
      entry.cancellation.abort();
    }
    return aborted;
  }

  /** Aborts every chat (shutdown) and returns them, so each caller can be told why. */
  abortAll(): InFlight<Conn>[] {
    const aborted = [...this.requests.values()];
    this.requests.clear();
    for (const entry of aborted) entry.cancellation.abort();
    return aborted;
  }

  /** Whether any chat still runs on `conn`. */
  busyOn(conn: Conn): boolean {
    for (const entry of this.requests.values()) if (entry.conn === conn) return true;
    return false;
  }
}
