import type { ModelStatus } from '@app/protocol';

/** A host's model status changes are told to the cluster at most this often (each is a few writes). */
export const MODEL_STATUS_MIN_MS = 1_000;

/**
 * What one host's agent says about its model server (`model_status`), as its connection keeps it.
 * New words under the same status are kept quietly (the next presence refresh carries them); a
 * new status is told (`changed`: presence, gossip, the directory) at most once per
 * MODEL_STATUS_MIN_MS, the latest one winning: a host flipping it on every frame costs the cluster
 * one write a second, not one per frame.
 */
export class HostModelStatus {
  /** null: unknown (a stock host, or nothing reported yet), which routing treats as healthy. */
  status: ModelStatus | null = null;
  /** The agent's words (bounded, printable by the decoder; for the owner only). */
  detail: string | null = null;
  private pending?: { status: ModelStatus; detail: string | null };
  private timer?: NodeJS.Timeout;
  /** Date.now() of the last change told. */
  private toldAt = -Infinity;
  private stopped = false;

  constructor(private readonly changed: () => void) {}

  /** Routing may give the replica chats: its model is not known to be down (a field read). */
  get up(): boolean {
    return this.status === null || this.status === 'ok';
  }

  receive(status: ModelStatus, detail: string | null): void {
    this.pending = { status, detail };
    if (this.timer || this.stopped) return;
    const wait = this.toldAt + MODEL_STATUS_MIN_MS - Date.now();
    if (wait <= 0) return this.apply();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.apply();
    }, wait);
    this.timer.unref();
  }

  /** The socket closed: nothing more is told. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private apply(): void {
    const next = this.pending;
    this.pending = undefined;
    if (!next || this.stopped) return;
    this.detail = next.detail;
    if (next.status === this.status) return;
    this.status = next.status;
    this.toldAt = Date.now();
    this.changed();
  }
}
