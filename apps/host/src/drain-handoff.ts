/** The part of a registry socket the handoff needs. */
export interface DrainableSocket {
  readonly isOpen: boolean;
  close(code: number, reason: string): Promise<unknown>;
}

export interface DrainHandoffOptions<Conn> {
  /** How long a drained socket may stay after a newer connection said hello. */
  lingerMs: number;
  /** Whether a chat still runs on the socket. */
  busy: (conn: Conn) => boolean;
}

/** serving: goaway received, no newer hello yet; lingering: the linger runs; released: may close once idle. */
type Stage = 'serving' | 'lingering' | 'released';

/**
 * Make-before-break on `goaway`: the old socket keeps serving (the registry may still route chats
 * to it) until a newer connection has said hello. The registry normally closes it itself once the
 * newer connection claimed the instance (4409); if it does not, the old socket is closed by us once
 * its last chat ended, `lingerMs` after that hello. Closing sooner could release the old presence
 * record before the new node has claimed it.
 */
export class DrainHandoff<Conn extends DrainableSocket> {
  private readonly drained = new Map<Conn, Stage>();

  constructor(private readonly options: DrainHandoffOptions<Conn>) {}

  /** The registry sent `goaway` on `conn`. */
  drain(conn: Conn): void {
    this.drained.set(conn, 'serving');
  }

  /** `current` said hello: every other drained socket is let go after the linger. */
  tookOver(current: Conn): void {
    for (const [conn, stage] of this.drained) {
      if (conn === current || stage !== 'serving') continue;
      this.drained.set(conn, 'lingering');
      setTimeout(() => {
        if (!this.drained.has(conn)) return;
        this.drained.set(conn, 'released');
        this.closeIfIdle(conn);
      }, this.options.lingerMs).unref();
    }
  }

  /** A chat on `conn` ended: a released socket closes once its last one did. */
  chatEnded(conn: Conn): void {
    this.closeIfIdle(conn);
  }

  /** The socket closed: nothing is left to hand over. */
  forget(conn: Conn): void {
    this.drained.delete(conn);
  }

  private closeIfIdle(conn: Conn): void {
    if (this.drained.get(conn) !== 'released' || !conn.isOpen || this.options.busy(conn)) return;
    void conn.close(1000, 'drained');
  }
}
