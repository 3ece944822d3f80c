import { PresenceOwner, PresenceStore } from './presence.store';

/** Embedded mode: one node, so presence is a map in this process. */
export class MemoryPresenceStore extends PresenceStore {
  private readonly records = new Map<string, PresenceOwner>();
  private readonly epochs = new Map<string, number>();

  constructor(private readonly nodeId: string) {
    super();
  }

  async claim(instanceId: string) {
    const epoch = (this.epochs.get(instanceId) ?? 0) + 1;
    this.epochs.set(instanceId, epoch);
    const previous = this.records.get(instanceId) ?? null;
    this.records.set(instanceId, { nodeId: this.nodeId, epoch });
    return { epoch, previous };
  }

  async release(instanceId: string, epoch: number) {
    const current = this.records.get(instanceId);
    if (!current || current.epoch !== epoch || current.nodeId !== this.nodeId) return false;
    this.records.delete(instanceId);
    return true;
  }

  async refresh(held: ReadonlyMap<string, number>) {
    return [...held].filter(([id, epoch]) => this.records.get(id)?.epoch !== epoch).map(([id]) => id);
  }

  async owner(instanceId: string) {
    return this.records.get(instanceId) ?? null;
  }

  async onlineByNode() {
    return new Map(this.records.size ? [[this.nodeId, [...this.records.keys()]]] : []);
  }

  onRestored() {}

  async close() {}
}
