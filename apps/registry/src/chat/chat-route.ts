import type { ChatFailureCode, ChatRequestBody, HttpTarget } from '@app/protocol';
import type { HostConnection } from '../hosts/host-connection';
import type { Candidate } from '../replicas/replica-choice';
import type { KnownReplica } from '../replicas/replica-table';

/** A replica a chat can go to: a socket here, or one another node holds. */
export type Target = Candidate & ({ connection: HostConnection } | { remote: KnownReplica });

/** What the router needs to know of a chat to send it. */
export interface ChatToRoute {
  instanceId: string;
  requestId: string;
  hostBody: ChatRequestBody;
  /** Another endpoint than chat (passthrough/): sent as `http_request`, answered as lines of head + body. */
  http?: HttpTarget;
}

/**
 * One chat's way through routing, from its admission to its end: what it tried, whether the
 * caller has a token yet, and where a cancel goes now (its replica, or its wait for one). The
 * router keeps it current; the caller's side only calls `cancel()`.
 */
export class ChatRoute implements ChatToRoute {
  readonly instanceId: string;
  readonly requestId: string;
  readonly hostBody: ChatRequestBody;
  readonly http?: HttpTarget;
  /** Candidates that failed this chat, and how. */
  readonly excluded = new Map<string, ChatFailureCode>();
  attempts = 0;
  /** A token reached the caller's side: from now on the chat is never sent anywhere else. */
  started = false;
  last?: { code: ChatFailureCode; message: string };
  holdUntil?: number;
  /** The last look found replicas connected but none whose model answers (a hold then ends in `model_unreachable`). */
  modelDown = false;
  /** Waiting for a replica (counted by ChatHolds). */
  holding = false;
  /** The node and replica ('' for the unnamed one) the chat was last sent to. */
  servedBy?: { node: string; replica: string };
  /** Ends the current wait early (a replica connected, or the caller left). */
  wake?: () => void;
  private stopAt: () => void = () => undefined;

  constructor(
    chat: ChatToRoute,
    /** The first attempt's candidates, found when the chat was admitted (null: none yet). */
    private candidates: Target[] | null = null,
  ) {
    this.instanceId = chat.instanceId;
    this.requestId = chat.requestId;
    this.hostBody = chat.hostBody;
    this.http = chat.http;
  }

  /** The candidates admission found, once: later attempts look again. */
  takeCandidates(): Target[] | null {
    const candidates = this.candidates;
    this.candidates = null;
    return candidates;
  }

  /** The caller left or timed out: stop the chat where it is now. */
  cancel(): void {
    this.stopAt();
  }

  /** Points `cancel()` at the chat's current place (its replica's cancel, or the end of its wait). */
  stopsWith(stop: () => void): void {
    this.stopAt = stop;
  }
}

/** Whether a chat can be routed now or held (with its route), or why neither. */
export type Admission =
  | { kind: 'route' | 'hold'; route: ChatRoute }
  | { kind: 'offline' | 'model_down' | 'hold_full' | 'node_hold_full' };
