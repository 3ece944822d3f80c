/**
 * The bench side of the Redis pub/sub floor (`floor/redis-echo-main.ts`): publishes a chat-sized
 * message on `<prefix>:ping` and waits for the echo process to publish it back on `<prefix>:pong`.
 * One round trip = the two Redis hops a cross-node chat adds (request B → A, reply A → B), between
 * two processes, with nothing else: no parsing, no routing, no HTTP, no WebSocket.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { roundSummary, summarize, Summary } from './stats';

/** What the c=1 run records (ms). */
export interface RedisRoundTripResult {
  rtt: Summary;
  failed: number;
  /** Size of the message published (the first one; `seq` grows by a digit now and then). */
  messageBytes: number;
}

/** A reply frame of a cross-node chat carrying one SSE chunk (`remote-chat.server.ts`), ~240 bytes as JSON. */
function message(requestId: string, seq: number): string {
  const chunk = {
    id: 'chatcmpl-bench',
    object: 'chat.completion.chunk',
    model: 'bench',
    choices: [{ index: 0, delta: { content: ' token' } }],
  };
  return JSON.stringify({ kind: 'chunks', requestId, seq, lines: [`data: ${JSON.stringify(chunk)}`] });
}

export class RedisRoundTrip {
  private readonly requestId = randomUUID();
  readonly messageBytes = Buffer.byteLength(message(this.requestId, 1));
  private seq = 0;
  private waiting: { payload: string; resolve: () => void } | null = null;

  private constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly ping: string,
  ) {
    subscriber.on('message', (_channel: string, payload: string) => {
      if (this.waiting?.payload !== payload) return; // a late echo of a timed-out round trip
      const { resolve } = this.waiting;
      this.waiting = null;
      resolve();
    });
  }

  /** Subscribes to `<prefix>:pong` (the echo process listens on `<prefix>:ping`). */
  static async connect(url: string, prefix: string): Promise<RedisRoundTrip> {
    const options = { lazyConnect: true, maxRetriesPerRequest: 1 };
    const publisher = new Redis(url, { ...options, connectionName: 'bench-floor-ping:pub' });
    const subscriber = new Redis(url, { ...options, connectionName: 'bench-floor-ping:sub' });
    for (const client of [publisher, subscriber]) client.on('error', () => undefined); // surfaces as timeouts
    try {
      await Promise.all([publisher.connect(), subscriber.connect()]);
      const rt = new RedisRoundTrip(publisher, subscriber, `${prefix}:ping`);
      await subscriber.subscribe(`${prefix}:pong`);
      return rt;
    } catch (err) {
      publisher.disconnect();
      subscriber.disconnect();
      throw err;
    }
  }

  /** One round trip, in ms from just before PUBLISH to the echo's arrival; NaN if none within `timeoutMs`. */
  async once(timeoutMs: number): Promise<number> {
    const payload = message(this.requestId, ++this.seq);
    let timer: NodeJS.Timeout | undefined;
    const started = performance.now();
    const arrived = await new Promise<boolean>((resolve) => {
      this.waiting = { payload, resolve: () => resolve(true) };
      timer = setTimeout(() => resolve(false), timeoutMs);
      this.publisher.publish(this.ping, payload).catch(() => resolve(false));
    });
    const ms = performance.now() - started;
    clearTimeout(timer);
    if (!arrived) this.waiting = null;
    return arrived ? ms : NaN;
  }

  close(): void {
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }
}

/** Collects round trips taken between the requests of a c=1 run (warm-up ones not recorded). */
export class RoundTripSamples {
  private readonly samples: number[] = [];
  private failed = 0;

  constructor(
    private readonly rt: RedisRoundTrip,
    private readonly timeoutMs: number,
  ) {}

  async take(record: boolean): Promise<void> {
    const ms = await this.rt.once(this.timeoutMs);
    if (!record) return;
    if (Number.isFinite(ms)) this.samples.push(ms);
    else this.failed++;
  }

  result(): RedisRoundTripResult {
    return {
      rtt: roundSummary(summarize(this.samples)),
      failed: this.failed,
      messageBytes: this.rt.messageBytes,
    };
  }
}
