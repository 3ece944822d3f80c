/** Who holds an instance's host socket, cluster-wide. */
export interface PresenceOwner {
  nodeId: string;
  /** Increases with every accepted connection for the instance; the newest wins. */
  epoch: number;
}

/**
 * Presence: which node holds each instance's host socket. Embedded mode keeps it in memory;
 * distributed mode in Redis (owner record with TTL, epoch per connection, compare-and-delete).
 */
export abstract class PresenceStore {
  /** Records this node as the owner; returns the new connection's epoch and the owner it displaced. */
  abstract claim(instanceId: string): Promise<{ epoch: number; previous: PresenceOwner | null }>;
  /** Removes the owner record only if it still names this node and epoch. */
  abstract release(instanceId: string, epoch: number): Promise<boolean>;
  /** Extends the owner records this node holds; returns ids whose record no longer names this node. */
  abstract refresh(held: ReadonlyMap<string, number>): Promise<string[]>;
  abstract owner(instanceId: string): Promise<PresenceOwner | null>;
  /** Instance ids with an unexpired owner record, by owner node; whether a node is alive is `OnlineInstances`' question. */
  abstract onlineByNode(): Promise<Map<string, string[]>>;
  /** Runs `handler` each time the store is reachable again after an outage (its records may be gone). */
  abstract onRestored(handler: () => void): void;
  abstract close(): Promise<void>;
}
