import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';
import type { Instance, Prisma } from '../database/generated/client';
import type { InstanceStatus } from '@app/contracts';

export type InstanceRecord = Instance;

/** All instance reads and writes; only active (not deleted) instances are visible. */
@Injectable()
export class InstancesRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(data: Prisma.InstanceCreateInput): Promise<InstanceRecord> {
    return this.prisma.instance.create({ data });
  }

  findActive(id: string): Promise<InstanceRecord | null> {
    return this.prisma.instance.findFirst({ where: { id, deletedAt: null } });
  }

  /** The current password hash of an active instance (null: deleted or unknown). */
  async passwordHash(id: string): Promise<Uint8Array | null> {
    const row = await this.prisma.instance.findFirst({
      where: { id, deletedAt: null },
      select: { passwordHash: true },
    });
    return row?.passwordHash ?? null;
  }

  update(id: string, data: Prisma.InstanceUpdateInput): Promise<InstanceRecord> {
    return this.prisma.instance.update({ where: { id }, data });
  }

  async softDelete(id: string): Promise<void> {
    await this.prisma.instance.update({ where: { id }, data: { deletedAt: new Date() } });
  }

  /**
   * A page of public instances with the given statuses, each with whether a live node holds it.
   * `liveNodes`: the nodes alive now (a handful), never a list of instances. The page walks the
   * (registered_at, id) index and checks each row's holders, so it costs its offset and size.
   */
  async list(statuses: InstanceStatus[], liveNodes: string[], skip: number, take: number) {
    const rows = await this.prisma.instance.findMany({
      where: this.statusFilter(statuses, liveNodes),
      orderBy: [{ registeredAt: 'asc' }, { id: 'asc' }],
      skip,
      take,
      // One live holder row, a node with a model that answers first: online, and whether any model does.
      include: {
        holders: {
          where: { nodeId: { in: liveNodes } },
          select: { modelDown: true },
          orderBy: { modelDown: 'asc' },
          take: 1,
        },
      },
    });
    return rows.map(({ holders, ...row }) => ({
      ...row,
      online: holders.length > 0,
      modelDown: holders.length > 0 && holders[0].modelDown,
    }));
  }

  count(statuses: InstanceStatus[], liveNodes: string[]): Promise<number> {
    return this.prisma.instance.count({ where: this.statusFilter(statuses, liveNodes) });
  }

  /** Marks the first connection (status leaves `registered`) and the connection time. */
  async markConnected(id: string, at: Date): Promise<void> {
    await this.prisma.instance.updateMany({
      where: { id, firstConnectedAt: null },
      data: { firstConnectedAt: at },
    });
    await this.prisma.instance.updateMany({ where: { id }, data: { lastWsCheck: at, lastHeartbeat: at } });
  }

  /** What a host's `hello` announced: its models, and the endpoints besides chat it serves. */
  async setHostModels(id: string, models: string[], endpoints: string[] = []): Promise<void> {
    await this.prisma.instance.updateMany({
      where: { id },
      data: { hostModels: models, hostEndpoints: endpoints },
    });
  }

  /** Writes buffered heartbeat times in one statement per batch rather than one per heartbeat. */
  async recordHeartbeats(beats: ReadonlyMap<string, Date>): Promise<void> {
    if (beats.size === 0) return;
    const ids = [...beats.keys()];
    const times = ids.map((id) => beats.get(id)!.toISOString());
    await this.prisma.$executeRaw`
      UPDATE instances AS i
         SET last_heartbeat = GREATEST(COALESCE(i.last_heartbeat, v.at), v.at), last_ws_check = v.at
        FROM UNNEST(${ids}::text[], ${times}::timestamp(3)[]) AS v(id, at)
       WHERE i.id = v.id`;
  }

  /** Online = held by a live node: an EXISTS on `instance_holders` per row, never a list of ids. */
  private statusFilter(statuses: InstanceStatus[], liveNodes: string[]): Prisma.InstanceWhereInput {
    // Private instances are never listed or counted.
    const active: Prisma.InstanceWhereInput = { deletedAt: null, visibility: 'public' };
    if (statuses.length === 0) return active;
    const held = { nodeId: { in: liveNodes } };
    const or: Prisma.InstanceWhereInput[] = [];
    if (statuses.includes('online')) or.push({ holders: { some: held } });
    if (statuses.includes('offline')) or.push({ firstConnectedAt: { not: null }, holders: { none: held } });
    if (statuses.includes('registered')) or.push({ firstConnectedAt: null, holders: { none: held } });
    // `unregistered` instances are deleted and never listed.
    if (or.length === 0) return { id: { in: [] } };
    return { ...active, OR: or };
  }
}
