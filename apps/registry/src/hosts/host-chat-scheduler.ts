import { Logger } from '@nestjs/common';
import type {
  ChatRequestBody,
  ChunkFrame,
  ChatResponseFrame,
  HostCapabilities,
  HttpTarget,
  RegistryToHostFrame,
} from '@app/protocol';
import { ENDPOINT_PATHS } from '@app/protocol';
import { deliverEvents, type ChatSink } from '../contracts/chat-sink';
import { hostErrorMessage, loggableHostError } from './host-error-detail';

/**
 * Cancelled requests remembered per socket, so the frames the host sent before it read the cancel
 * are not taken for a host inventing ids: at least this many, and twice the host's concurrency
 * (every slot cancelled at once, twice over). A request the host ended itself (done, error) gets
 * no late frames, so it is not remembered: an idle host keeps no ids, a busy one at most these.
 */
const MIN_REMEMBERED_CANCELS = 16;

interface Waiting {
  requestId: string;
  request: ChatRequestBody;
  sink: ChatSink;
  /** Set for another endpoint than chat: sent as `http_request`. */
  http?: HttpTarget;
}

/**
 * Per-host chat scheduling: up to `concurrency` requests on the socket at once, the rest in a
 * bounded queue. A host without our `hello` (stock Second Me) serves one at a time and cannot
 * cancel, so a request its caller abandoned keeps its slot until the host finishes it.
 */
export class HostChatScheduler {
  private static readonly logger = new Logger('HostChatScheduler');
  private concurrency = 1;
  private canCancel = false;
  /** requestId → sink; null marks an abandoned request a non-cancelling host is still streaming. */
  private readonly active = new Map<string, ChatSink | null>();
  private readonly waiting: Waiting[] = [];
  /** Created at the first cancel (most hosts never need it). */
  private recentlyCancelled?: Set<string>;
  /** Frames for requests we no longer know (late, cancelled, or from a confused host). */
  droppedFrames = 0;
  /** Called whenever the last active request ends (used to close a retired socket). */
  onIdle?: () => void;
  /** Called whenever `load` may have changed (routing and the load gossip read it). */
  onLoad?: () => void;

  constructor(
    private readonly send: (frame: RegistryToHostFrame) => void,
    private readonly queueLimit: number,
    private readonly instanceId: string,
  ) {}

  /** `concurrency` as HostConnection clamped it from the host's `hello`. */
  setCapabilities(capabilities: Pick<HostCapabilities, 'concurrency' | 'cancel'>): void {
    this.concurrency = capabilities.concurrency;
    this.canCancel = capabilities.cancel === true;
    this.pump();
  }

  get activeCount(): number {
    return this.active.size;
  }

  get queuedCount(): number {
    return this.waiting.length;
  }

  /** Chats running or queued here: what routing weighs against the capacity. */
  get load(): number {
    return this.active.size + this.waiting.length;
  }

  /** Returns false when the queue is full (the caller answers 429). */
  submit(requestId: string, request: ChatRequestBody, sink: ChatSink, http?: HttpTarget): boolean {
    if (this.active.size < this.concurrency) {
      this.start({ requestId, request, sink, http });
      return true;
    }
    if (this.waiting.length >= this.queueLimit) return false;
    this.waiting.push({ requestId, request, sink, http });
    this.onLoad?.();
    return true;
  }

  cancel(requestId: string): void {
    const index = this.waiting.findIndex((w) => w.requestId === requestId);
    if (index >= 0) {
      this.waiting.splice(index, 1);
      this.onLoad?.();
      return;
    }
    if (!this.active.has(requestId)) return;
    if (this.canCancel) {
      this.send({ type: 'cancel', request_id: requestId });
      this.rememberCancelled(requestId);
      this.finish(requestId);
    } else {
      this.active.set(requestId, null);
    }
  }

  /** Returns false for a request id this host was never given (or not for a long time). */
  onResponse(frame: ChatResponseFrame): boolean {
    const id = frame.request_id;
    const sink = this.sinkOf(id);
    if (sink === undefined) return this.wasCancelled(id);
    if (frame.error !== undefined && frame.error !== null) {
      this.finish(id);
      // The detail may be an upstream's body or address: for the node's log, never for the caller.
      HostChatScheduler.logger.warn(
        `host ${this.instanceId} reported an error for request ${id}: ${loggableHostError(frame.error)}`,
      );
      sink?.error('host_error', hostErrorMessage(id));
      return true;
    }
    const lines = frame.raw_sse_batch ?? (typeof frame.raw_sse === 'string' ? [frame.raw_sse] : []);
    if (lines.length > 0) sink?.lines(lines);
    if (frame.done === true) this.complete(id, sink);
    return true;
  }

  /** A binary chunk frame (see onResponse); its events go on as the bytes they are. */
  onEvents(frame: ChunkFrame): boolean {
    const id = frame.requestId;
    const sink = this.sinkOf(id);
    if (sink === undefined) return this.wasCancelled(id);
    if (frame.events.length > 0 && sink) deliverEvents(sink, frame.events);
    if (frame.done) this.complete(id, sink);
    return true;
  }

  /** An answering request's sink (null: abandoned, its host still streaming); undefined, and counted, when none is. */
  private sinkOf(requestId: string): ChatSink | null | undefined {
    if (this.active.has(requestId)) return this.active.get(requestId) ?? null;
    this.droppedFrames++;
    return undefined;
  }

  private complete(requestId: string, sink: ChatSink | null): void {
    this.finish(requestId);
    sink?.done();
  }

  /** Fails the requests still waiting for a slot (the socket is being retired). */
  failQueued(message: string): void {
    for (const waiting of this.waiting.splice(0)) waiting.sink.error('host_moved', message);
  }

  /** The socket is gone: every request on it or waiting for it fails. */
  failAll(code: 'host_disconnected', message: string): void {
    const sinks = [...this.active.values(), ...this.waiting.map((w) => w.sink)];
    this.active.clear();
    this.waiting.length = 0;
    for (const sink of sinks) sink?.error(code, message);
  }

  private finish(requestId: string): void {
    this.active.delete(requestId);
    this.pump();
    this.onLoad?.();
    if (this.active.size === 0) this.onIdle?.();
  }

  private rememberCancelled(requestId: string): void {
    const ids = (this.recentlyCancelled ??= new Set());
    ids.add(requestId);
    if (ids.size > Math.max(MIN_REMEMBERED_CANCELS, 2 * this.concurrency))
      ids.delete(ids.values().next().value as string);
  }

  private wasCancelled(requestId: string): boolean {
    return this.recentlyCancelled?.has(requestId) === true;
  }

  private start(next: Waiting): void {
    this.active.set(next.requestId, next.sink);
    if (this.waiting.length === 0) this.onLoad?.();
    if (next.http)
      this.send({
        type: 'http_request',
        request_id: next.requestId,
        method: 'POST',
        path: ENDPOINT_PATHS[next.http.endpoint],
        headers: next.http.headers,
        body: next.request,
        ...(next.http.upload && { upload: next.http.upload }),
      });
    else this.send({ type: 'chat', request_id: next.requestId, request: next.request });
  }

  private pump(): void {
    while (this.active.size < this.concurrency && this.waiting.length > 0) this.start(this.waiting.shift()!);
  }
}
