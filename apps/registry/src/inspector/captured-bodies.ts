import type { CapturedBody } from '@app/contracts';

export interface CaptureLimits {
  /** Each body (request, response) is cut to this many bytes. */
  perBody: number;
  /** Bytes kept per instance on a node: past it the instance's oldest capture is dropped. */
  perInstance: number;
  /** Bytes kept on the node, all instances together: past it the least recently active instance loses its oldest. */
  perNode: number;
}

/**
 * 32 KiB per body, 1 MiB per instance, 64 MiB per node: a capture costs at most ~64 KiB (two
 * bodies), so an instance keeps its last 16 full exchanges at least, and 64 instances capturing
 * at full rate fit before the node cap drops the least active one's oldest.
 */
export const CAPTURE_LIMITS: CaptureLimits = {
  perBody: 32 * 1024,
  perInstance: 1024 * 1024,
  perNode: 64 * 1024 * 1024,
};

interface Held {
  body: CapturedBody;
  bytes: number;
}

/** `text` cut to at most `max` bytes of UTF-8 (never inside a character), and whether it was cut. */
export function cutToBytes(text: string, max: number): { text: string; truncated: boolean } {
  if (text.length * 3 <= max || Buffer.byteLength(text) <= max) return { text, truncated: false };
  const cut = Buffer.from(text).subarray(0, max).toString('utf8');
  // A character split at the cut decodes as U+FFFD: drop it.
  return { text: cut.endsWith('\uFFFD') ? cut.slice(0, -1) : cut, truncated: true };
}

/**
 * Captured request and response bodies per instance, in memory only, never logged: written when a
 * captured chat ends, read when the owner opens one, dropped when its instance's capture ends.
 * Map order is the order in which instances last captured (as RequestLog), so the node cap drops
 * from the least recently active instance first.
 */
export class CapturedBodies {
  private readonly byInstance = new Map<string, { held: Map<string, Held>; bytes: number }>();
  private total = 0;

  constructor(private readonly limits: CaptureLimits = CAPTURE_LIMITS) {}

  /** Bytes held, all instances together (counted as UTF-16 string lengths × 2, as V8 may store them). */
  get bytes(): number {
    return this.total;
  }

  /** Keeps the bodies of request `id`; each is cut to the per-body limit. */
  put(instanceId: string, id: string, request: string, response: string): void {
    const req = cutToBytes(request, this.limits.perBody);
    const res = cutToBytes(response, this.limits.perBody);
    const body: CapturedBody = {
      request: req.text,
      request_truncated: req.truncated,
      response: res.text,
      response_truncated: res.truncated,
    };
    const bytes = (req.text.length + res.text.length) * 2 + id.length * 2 + 64;
    let entry = this.byInstance.get(instanceId);
    if (entry) this.byInstance.delete(instanceId);
    else entry = { held: new Map(), bytes: 0 };
    this.byInstance.set(instanceId, entry);
    entry.held.set(id, { body, bytes });
    entry.bytes += bytes;
    this.total += bytes;
    while (entry.bytes > this.limits.perInstance && entry.held.size > 1) this.dropOldest(instanceId);
    while (this.total > this.limits.perNode) {
      const first = this.byInstance.keys().next();
      if (first.done) break;
      this.dropOldest(first.value);
    }
  }

  get(instanceId: string, id: string): CapturedBody | null {
    return this.byInstance.get(instanceId)?.held.get(id)?.body ?? null;
  }

  /** Which of `ids` this node holds bodies for (none looked at when the instance has none). */
  has(instanceId: string, id: string): boolean {
    return this.byInstance.get(instanceId)?.held.has(id) ?? false;
  }

  holdsAny(instanceId: string): boolean {
    return this.byInstance.has(instanceId);
  }

  /** Drops everything captured for the instance (its capture ended). */
  drop(instanceId: string): void {
    const entry = this.byInstance.get(instanceId);
    if (!entry) return;
    this.byInstance.delete(instanceId);
    this.total -= entry.bytes;
  }

  /** Instances with captures held (for the expiry sweep). */
  instances(): string[] {
    return [...this.byInstance.keys()];
  }

  private dropOldest(instanceId: string): void {
    const entry = this.byInstance.get(instanceId);
    if (!entry) return;
    const first = entry.held.entries().next();
    if (first.done) return;
    const [id, held] = first.value;
    entry.held.delete(id);
    entry.bytes -= held.bytes;
    this.total -= held.bytes;
    if (entry.held.size === 0) this.byInstance.delete(instanceId);
  }
}
