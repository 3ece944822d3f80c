import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import type { ChatFailureCode, ChatRequestBody } from '@app/protocol';
import type { ChatSink } from '../../apps/registry/src/contracts/chat-sink';
import { HostConnection } from '../../apps/registry/src/hosts/host-connection';
import {
  type HostConnectionEvents,
  NO_SOCKET_LIMITS,
} from '../../apps/registry/src/hosts/host-connection-options';

/** How a fake host answers a chat, given the chat's sink. */
export type HostBehaviour = (sink: ChatSink) => void;

/** One line, then done. */
export const answers: HostBehaviour = (sink) => {
  sink.lines(['a']);
  sink.done();
};

/** Fails before any token. */
export const fails =
  (code: ChatFailureCode): HostBehaviour =>
  (sink) =>
    sink.error(code, code);

/** Sends a first token, then fails. */
export const startsThenFails =
  (code: ChatFailureCode): HostBehaviour =>
  (sink) => {
    sink.lines(['partial']);
    sink.error(code, code);
  };

/** The registry's end of a host socket, without a network: what is sent is kept, a close ends it a tick later. */
export class FakeHostSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  isPaused = false;
  readonly frames: unknown[] = [];
  closeCode?: number;

  send(data: string): void {
    this.frames.push(JSON.parse(data));
  }

  ping(): void {}

  pause(): void {
    this.isPaused = true;
  }

  resume(): void {
    this.isPaused = false;
  }

  close(code: number): void {
    if (this.readyState !== this.OPEN) return;
    this.readyState = 3;
    this.closeCode = code;
    setImmediate(() => this.emit('close', code));
  }

  terminate(): void {
    this.close(1006);
  }

  /** The host sends a frame. */
  receive(frame: object): void {
    this.emit('message', Buffer.from(JSON.stringify(frame)), false);
  }

  /** The host sends a binary message. */
  receiveBinary(bytes: Buffer): void {
    this.emit('message', bytes, true);
  }
}

export interface FakeHostOptions {
  instanceId?: string;
  /** Default `r`. */
  replica?: string;
  epoch?: number;
  /** Its `hello` concurrency. */
  capacity?: number;
  /** Chats running or queued on it, as routing reads it. */
  load?: number;
  /** How it answers each chat (a tick later); without it chats wait and `sinks` reaches them. */
  answer?: HostBehaviour;
  events?: Partial<HostConnectionEvents>;
}

/**
 * A host connection of this node whose host does what the test says: a real `HostConnection`
 * over a `FakeHostSocket`, except that chats go to `answer` instead of the host's scheduler.
 */
export class FakeHostConnection extends HostConnection {
  readonly wire: FakeHostSocket;
  /** Request ids of the chats it was given, in order. */
  readonly started: string[] = [];
  readonly sinks = new Map<string, ChatSink>();
  readonly cancelled: string[] = [];
  loadNow: number;
  private readonly answer?: HostBehaviour;

  constructor(options: FakeHostOptions = {}) {
    const wire = new FakeHostSocket();
    const events: HostConnectionEvents = {
      heartbeat: () => undefined,
      hello: () => undefined,
      malformed: () => undefined,
      closed: () => undefined,
      ...options.events,
    };
    // The socket has what HostConnection uses of a `ws` WebSocket; nothing else is reached.
    const socket = wire as unknown as WebSocket;
    super(
      options.instanceId ?? 'inst',
      options.replica ?? 'r',
      options.epoch ?? 1,
      socket,
      512,
      NO_SOCKET_LIMITS,
      events,
    );
    this.wire = wire;
    this.loadNow = options.load ?? 0;
    this.answer = options.answer;
    this.capabilities = { concurrency: options.capacity ?? 1, cancel: true, models: [] };
  }

  override get load(): number {
    return this.loadNow;
  }

  override startChat(requestId: string, _request: ChatRequestBody, sink: ChatSink): boolean {
    this.started.push(requestId);
    this.sinks.set(requestId, sink);
    const answer = this.answer;
    if (answer) setImmediate(() => answer(sink));
    return true;
  }

  override cancelChat(requestId: string): void {
    this.cancelled.push(requestId);
  }
}
