import type { ModelStatus } from '@app/protocol';

/** Who holds one replica's host socket, cluster-wide. */
export interface PresenceOwner {
  nodeId: string;
  /**
   * Increases with every accepted connection of the replica; the newest wins. Taken from the clock
   * (microseconds) or one more than the last, so it keeps increasing after its counter expired.
   */
  epoch: number;
}

/** What the holding node says about a replica (written on claim and on every refresh). */
export interface ReplicaState {
  /** Chats it serves at once (its `hello` concurrency; 1 for a stock host). */
  capacity: number;
  /** Chats running on it or queued for it, as of the write. */
  inFlight: number;
  /** Epoch milliseconds of the connection. */
  connectedAt: number;
  /** Told to move (its node is draining): gets no new chats. */
  draining: boolean;
  /** Its agent's last `model_status` (absent or null: unknown, e.g. a stock host; routed to as healthy). */
  modelStatus?: ModelStatus | null;
  /** The agent's words about its model (owner only). */
  modelDetail?: string | null;
}

/** Whether routing may give the replica chats: its model is not known to be down. */
export const modelUp = (state: Pick<ReplicaState, 'modelStatus'>): boolean =>
  state.modelStatus == null || state.modelStatus === 'ok';

/** One connected replica of an instance, as presence records it. */
export interface ReplicaRecord extends PresenceOwner, ReplicaState {
  instanceId: string;
  /** '' for the unnamed replica (a stock host). */
  replica: string;
}

/** A replica this node holds, for `refresh`. */
export interface HeldReplica {
  instanceId: string;
  replica: string;
  epoch: number;
  state: ReplicaState;
}

export type ClaimResult = { epoch: number; previous: PresenceOwner | null } | { tooMany: true };

/**
 * Presence: which node holds each replica's host socket. Embedded mode keeps it in memory;
 * distributed mode in Redis (owner record with TTL, epoch per connection, compare-and-delete, and
 * per instance a hash of its replicas).
 */
export abstract class PresenceStore {
  /**
   * Records this node as the replica's holder; returns the new connection's epoch and the holder
   * it displaced, or `tooMany` when the instance already has `maxReplicas` other replicas (0 = no limit).
   */
  abstract claim(
    instanceId: string,
    replica: string,
    state: ReplicaState,
    maxReplicas: number,
  ): Promise<ClaimResult>;
  /** Removes the record only if it still names this node and epoch. */
  abstract release(instanceId: string, replica: string, epoch: number): Promise<boolean>;
  /** Extends the records this node holds (by slot); returns the slots whose record no longer names this node. */
  abstract refresh(held: ReadonlyMap<string, HeldReplica>): Promise<string[]>;
  abstract owner(instanceId: string, replica: string): Promise<PresenceOwner | null>;
  /** The unexpired replicas of an instance; whether their nodes are alive is `OnlineInstances`' question. */
  abstract replicas(instanceId: string): Promise<ReplicaRecord[]>;
  /** Runs `handler` each time the store is reachable again after an outage (its records may be gone). */
  abstract onRestored(handler: () => void): void;
  abstract close(): Promise<void>;
}
