import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';
import type { AccessKey, Prisma } from '../database/generated/client';

export type AccessKeyRecord = AccessKey;

/** The columns a chat reads (KeyDirectory); the key's name, prefix and dates stay in the database. */
const CHAT_COLUMNS = {
  id: true,
  instanceId: true,
  models: true,
  endpoints: true,
  rpm: true,
  maxConcurrent: true,
  tokensPerDay: true,
  expiresAt: true,
  revokedAt: true,
} as const satisfies Prisma.AccessKeySelect;
export type ChatKeyRecord = Prisma.AccessKeyGetPayload<{ select: typeof CHAT_COLUMNS }>;

/** An instance's keys as key creation counts them, read under the instance's lock. */
export interface KeyCounts {
  /** Every stored key, revoked and expired ones included until they are purged. */
  stored: number;
  /** Neither revoked nor expired. */
  live: number;
  /** Created after `recentSince`, and when the oldest of those was. */
  recent: number;
  oldestRecent: Date | null;
}

/** Access keys of instances; the secret itself is never stored, only its hash. */
@Injectable()
export class KeysRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Creates a key unless `check` throws on the instance's current counts. The instance row is
   * locked meanwhile, so nodes creating keys of one instance at once count one after the other.
   */
  create(
    data: Prisma.AccessKeyUncheckedCreateInput & { createdAt: Date },
    recentSince: Date,
    check: (counts: KeyCounts) => void,
  ): Promise<AccessKeyRecord> {
    const { instanceId, createdAt: now } = data;
    return this.prisma.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT id FROM instances WHERE id = ${instanceId} FOR UPDATE`;
      const stored = await tx.accessKey.count({ where: { instanceId } });
      const live = await tx.accessKey.count({
        where: { instanceId, revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] },
      });
      const recent = await tx.accessKey.aggregate({
        where: { instanceId, createdAt: { gt: recentSince } },
        _count: true,
        _min: { createdAt: true },
      });
      check({ stored, live, recent: recent._count, oldestRecent: recent._min.createdAt });
      return tx.accessKey.create({ data });
    });
  }

  /** One page of an instance's keys, newest first, and how many there are. */
  list(instanceId: string, skip: number, take: number): Promise<[AccessKeyRecord[], number]> {
    return this.prisma.$transaction([
      this.prisma.accessKey.findMany({
        where: { instanceId },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        skip,
        take,
      }),
      this.prisma.accessKey.count({ where: { instanceId } }),
    ]);
  }

  /** The names of the instance's keys among `ids` (the inspector's rows name their key). */
  async namesOf(instanceId: string, ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.prisma.accessKey.findMany({
      where: { instanceId, id: { in: ids } },
      select: { id: true, name: true },
    });
    return new Map(rows.map((row) => [row.id, row.name]));
  }

  find(instanceId: string, id: string): Promise<AccessKeyRecord | null> {
    return this.prisma.accessKey.findFirst({ where: { id, instanceId } });
  }

  findForChat(hash: Uint8Array<ArrayBuffer>): Promise<ChatKeyRecord | null> {
    return this.prisma.accessKey.findUnique({ where: { hash }, select: CHAT_COLUMNS });
  }

  async revoke(id: string, at: Date): Promise<AccessKeyRecord> {
    await this.prisma.accessKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: at } });
    return this.prisma.accessKey.findUniqueOrThrow({ where: { id } });
  }

  /**
   * Deletes up to `batch` keys revoked or expired before `before`; answers how many. Rows another
   * node is deleting are skipped, so nodes running this at once share the work.
   */
  purge(before: Date, batch: number): Promise<number> {
    const cutoff = before.toISOString();
    return this.prisma.$executeRaw`
      DELETE FROM access_keys WHERE id IN (
        SELECT id FROM access_keys
         WHERE revoked_at < ${cutoff}::timestamp(3) OR expires_at < ${cutoff}::timestamp(3)
         LIMIT ${batch} FOR UPDATE SKIP LOCKED)`;
  }
}
