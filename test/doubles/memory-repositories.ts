import { Prisma } from '../../apps/registry/src/database/generated/client';
import type { InstanceStatus } from '@app/contracts';
import { deriveStatus } from '../../apps/registry/src/instances/instance-status';
import { InstanceHoldersRepository } from '../../apps/registry/src/instances/instance-holders.repository';
import { InstanceRecord, InstancesRepository } from '../../apps/registry/src/instances/instances.repository';
import { NO_DATABASE } from './no-database';

/** `instance_holders` in memory: the instances each node holds, and every write in order (`log`). */
export class MemoryHoldersRepository extends InstanceHoldersRepository {
  readonly byNode = new Map<string, Set<string>>();
  /** `<nodeId>|<instanceId>` rows whose node holds only models that are down. */
  readonly modelDown = new Set<string>();
  readonly log: string[] = [];

  constructor() {
    super(NO_DATABASE);
  }

  /** Whether `nodeId` (any node when left out) holds the instance. */
  holds(instanceId: string, nodeId?: string): boolean {
    if (nodeId !== undefined) return this.byNode.get(nodeId)?.has(instanceId) ?? false;
    return [...this.byNode.values()].some((held) => held.has(instanceId));
  }

  override async hold(instanceId: string, nodeId: string, modelDown = false): Promise<void> {
    const held = this.byNode.get(nodeId) ?? new Set<string>();
    held.add(instanceId);
    this.byNode.set(nodeId, held);
    if (modelDown) this.modelDown.add(`${nodeId}|${instanceId}`);
    else this.modelDown.delete(`${nodeId}|${instanceId}`);
    this.log.push(`hold ${instanceId}${modelDown ? ' (model down)' : ''}`);
  }

  override async release(instanceId: string, nodeId: string): Promise<void> {
    this.byNode.get(nodeId)?.delete(instanceId);
    this.log.push(`release ${instanceId}`);
  }

  override async resync(nodeId: string, instanceIds: string[]): Promise<void> {
    this.byNode.set(nodeId, new Set(instanceIds));
  }

  override async purgeNode(nodeId: string): Promise<void> {
    this.byNode.delete(nodeId);
  }

  override async countOnline(liveNodes: string[]): Promise<number> {
    const online = new Set(liveNodes.flatMap((node) => [...(this.byNode.get(node) ?? [])]));
    return online.size;
  }
}

/**
 * Instances in memory, with the repository's contract: deleted ones are invisible, undefined leaves
 * a column alone, and an instance is online when one of the given live nodes holds it (`holders`).
 */
export class MemoryInstancesRepository extends InstancesRepository {
  readonly rows = new Map<string, InstanceRecord>();
  /** The live nodes each list/count was given. */
  readonly liveNodesSeen: string[][] = [];

  constructor(readonly holders = new MemoryHoldersRepository()) {
    super(NO_DATABASE);
  }

  override create(data: Prisma.InstanceCreateInput): Promise<InstanceRecord> {
    const row = {
      description: '',
      email: '',
      config: {},
      capabilities: null,
      hostModels: null,
      registeredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, this.rows.size)),
      updatedAt: new Date(),
      firstConnectedAt: null,
      lastHeartbeat: null,
      lastWsCheck: null,
      deletedAt: null,
      visibility: 'public',
      policy: null,
      ...this.columns(data),
    } as InstanceRecord;
    this.rows.set(row.id, row);
    return Promise.resolve(row);
  }

  override findActive(id: string): Promise<InstanceRecord | null> {
    const row = this.rows.get(id);
    return Promise.resolve(row && !row.deletedAt ? row : null);
  }

  override async passwordHash(id: string): Promise<Uint8Array | null> {
    return (await this.findActive(id))?.passwordHash ?? null;
  }

  override update(id: string, data: Prisma.InstanceUpdateInput): Promise<InstanceRecord> {
    const row = { ...this.rows.get(id)!, ...this.columns(data) };
    this.rows.set(id, row);
    return Promise.resolve(row);
  }

  override softDelete(id: string): Promise<void> {
    this.rows.get(id)!.deletedAt = new Date();
    return Promise.resolve();
  }

  override list(statuses: InstanceStatus[], liveNodes: string[], skip: number, take: number) {
    const rows = this.matching(statuses, liveNodes);
    return Promise.resolve(
      rows.slice(skip, skip + take).map((row) => ({
        ...row,
        online: this.online(row, liveNodes),
        modelDown:
          this.online(row, liveNodes) &&
          liveNodes.every(
            (node) => !this.holders.holds(row.id, node) || this.holders.modelDown.has(`${node}|${row.id}`),
          ),
      })),
    );
  }

  override count(statuses: InstanceStatus[], liveNodes: string[]): Promise<number> {
    return Promise.resolve(this.matching(statuses, liveNodes).length);
  }

  override async markConnected(id: string, at: Date): Promise<void> {
    const row = this.rows.get(id);
    if (row)
      Object.assign(row, {
        firstConnectedAt: row.firstConnectedAt ?? at,
        lastWsCheck: at,
        lastHeartbeat: at,
      });
  }

  override async setHostModels(id: string, models: string[]): Promise<void> {
    const row = this.rows.get(id);
    if (row) row.hostModels = models;
  }

  override async recordHeartbeats(beats: ReadonlyMap<string, Date>): Promise<void> {
    for (const [id, at] of beats) {
      const row = this.rows.get(id);
      if (row) Object.assign(row, { lastHeartbeat: at, lastWsCheck: at });
    }
  }

  private online(row: InstanceRecord, liveNodes: string[]): boolean {
    return liveNodes.some((node) => this.holders.holds(row.id, node));
  }

  private matching(statuses: InstanceStatus[], liveNodes: string[]): InstanceRecord[] {
    this.liveNodesSeen.push(liveNodes);
    return [...this.rows.values()].filter(
      (row) =>
        !row.deletedAt &&
        row.visibility === 'public' &&
        (statuses.length === 0 || statuses.includes(deriveStatus(row, this.online(row, liveNodes)))),
    );
  }

  /** Undefined leaves a column alone; Prisma's DbNull stores NULL. */
  private columns(data: object): Partial<InstanceRecord> {
    return Object.fromEntries(
      Object.entries(data)
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) => [key, value === Prisma.DbNull ? null : value]),
    );
  }
}
