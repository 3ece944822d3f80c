import type { PresenceStore, ReplicaState } from '../../apps/registry/src/presence/presence.store';

/** What a claim writes when a test does not care about a replica's state. */
export const IDLE: ReplicaState = { capacity: 1, inFlight: 0, connectedAt: 0, draining: false };

/**
 * A presence store seen through the unnamed replica only (one connection per instance, as a stock
 * host has), for tests of the owner-record mechanics that replicas did not change.
 */
export function unnamed(store: PresenceStore) {
  return {
    store,
    async claim(instanceId: string) {
      const claimed = await store.claim(instanceId, '', IDLE, 0);
      if ('tooMany' in claimed) throw new Error('unexpected: too many replicas');
      return claimed;
    },
    release: (instanceId: string, epoch: number) => store.release(instanceId, '', epoch),
    refresh: (held: ReadonlyMap<string, number>) =>
      store.refresh(
        new Map([...held].map(([id, epoch]) => [id, { instanceId: id, replica: '', epoch, state: IDLE }])),
      ),
    owner: (instanceId: string) => store.owner(instanceId, ''),
    onRestored: (handler: () => void) => store.onRestored(handler),
  };
}
