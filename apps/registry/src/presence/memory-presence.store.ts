import { PresenceOwner, PresenceStore } from './presence.store';

/** Embedded mode: one node, so presence is a map in this process. */
export class MemoryPresenceStore extends PresenceStore {
  private readonly owners = new Map<string, PresenceOwner>();
  private readonly epochs = new Map<string, number>();

  constructor(private readonly nodeId: string) {
    super();
  }

  async claim(instanceId: string) {
    const epoch = (this.epochs.get(instanceId) ?? 0) + 1;
    this.epochs.set(instanceId, epoch);
    const previous = this.owners.get(instanceId) ?? null;
    this.owners.set(instanceId, { nodeId: this.nodeId, epoch });
    return { epoch, previous };
  }

  async release(instanceId: string, epoch: number) {
    const current = this.owners.get(instanceId);
    if (!current || current.epoch !== epoch || current.nodeId !== this.nodeId) return false;
    this.owners.delete(instanceId);
    return true;
  }

  async refresh(held: ReadonlyMap<string, number>) {
    return [...held].filter(([id, epoch]) => this.owners.get(id)?.epoch !== epoch).map(([id]) => id);
  }

  async owner(instanceId: string) {
    return this.owners.get(instanceId) ?? null;
  }

  async onlineIds() {
    return [...this.owners.keys()];
  }

  onRestored() {}

  async close() {}
}
