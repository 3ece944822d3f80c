import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { CapturedBody } from '@app/contracts';
import { ClusterBus } from '../cluster/cluster-bus';
import { CapturedBodies } from './captured-bodies';

/** Capture lasts at most a day. */
export const MAX_CAPTURE_MINUTES = 1_440;
/** How often expired captures lose their bodies (reads already ignore them at once). */
const SWEEP_MS = 10_000;

/**
 * The owner's body-capture switch and this node's captured bodies. The switch lives in memory on
 * each node: the node the owner asked applies it and broadcasts it (`capture` topic) to the others.
 * Fail safe: a node that misses it (started later, or its subscription dropped, after which it
 * forgets every switch) captures nothing until the owner switches again. Off, expiry and a missed
 * broadcast all drop the instance's bodies on this node.
 */
@Injectable()
export class BodyCapture implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Inspector');
  /** Instance id → when its capture ends (ms since the epoch); absent: off. */
  private readonly until = new Map<string, number>();
  private readonly bodies = new CapturedBodies();
  private timer?: NodeJS.Timeout;

  constructor(private readonly bus: ClusterBus) {}

  onModuleInit(): void {
    this.bus.onBroadcast('capture', (message) => {
      const { instanceId, until } = message;
      if (typeof instanceId === 'string' && typeof until === 'number' && Number.isFinite(until))
        this.apply(instanceId, until);
    });
    this.bus.onBroadcastGap(() => {
      for (const instanceId of [...this.until.keys()]) this.apply(instanceId, 0);
    });
    this.timer = setInterval(() => this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Until when the instance's bodies are captured (ms since the epoch), or null when off. */
  endsAt(instanceId: string): number | null {
    const until = this.until.get(instanceId);
    return until !== undefined && until > Date.now() ? until : null;
  }

  /** Turns capture on for `minutes` (0: off) here and on every other node. */
  async switchTo(instanceId: string, minutes: number): Promise<number | null> {
    const until = minutes > 0 ? Date.now() + minutes * 60_000 : 0;
    this.apply(instanceId, until);
    await this.bus.broadcast('capture', { instanceId, until }).catch((error: Error) => {
      // The other nodes keep their previous switch: off stays off (fail safe), on lasts until it expires.
      this.logger.warn(`could not tell the other nodes about a capture switch: ${error.message}`);
    });
    return this.endsAt(instanceId);
  }

  /** Keeps a captured chat's bodies if capture is still on. */
  keep(instanceId: string, id: string, request: string, response: string): void {
    if (this.endsAt(instanceId) !== null) this.bodies.put(instanceId, id, request, response);
  }

  body(instanceId: string, id: string): CapturedBody | null {
    return this.endsAt(instanceId) === null ? null : this.bodies.get(instanceId, id);
  }

  holds(instanceId: string): (id: string) => boolean {
    if (!this.bodies.holdsAny(instanceId) || this.endsAt(instanceId) === null) return () => false;
    return (id) => this.bodies.has(instanceId, id);
  }

  private apply(instanceId: string, until: number): void {
    if (until > Date.now()) return void this.until.set(instanceId, until);
    this.until.delete(instanceId);
    this.bodies.drop(instanceId);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [instanceId, until] of this.until) if (until <= now) this.apply(instanceId, 0);
    for (const instanceId of this.bodies.instances())
      if (!this.until.has(instanceId)) this.bodies.drop(instanceId);
  }
}
