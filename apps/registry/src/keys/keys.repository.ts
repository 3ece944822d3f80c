import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';
import type { AccessKey, Prisma } from '../database/generated/client';

export type AccessKeyRecord = AccessKey;

/** Access keys of instances; the secret itself is never stored, only its hash. */
@Injectable()
export class KeysRepository {
  constructor(private readonly prisma: PrismaService) {}

  create(data: Prisma.AccessKeyUncheckedCreateInput): Promise<AccessKeyRecord> {
    return this.prisma.accessKey.create({ data });
  }

  list(instanceId: string): Promise<AccessKeyRecord[]> {
    return this.prisma.accessKey.findMany({ where: { instanceId }, orderBy: { createdAt: 'asc' } });
  }

  countActive(instanceId: string): Promise<number> {
    return this.prisma.accessKey.count({ where: { instanceId, revokedAt: null } });
  }

  find(instanceId: string, id: string): Promise<AccessKeyRecord | null> {
    return this.prisma.accessKey.findFirst({ where: { id, instanceId } });
  }

  findByHash(hash: Uint8Array<ArrayBuffer>): Promise<AccessKeyRecord | null> {
    return this.prisma.accessKey.findUnique({ where: { hash } });
  }

  async revoke(id: string, at: Date): Promise<AccessKeyRecord> {
    await this.prisma.accessKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: at } });
    return this.prisma.accessKey.findUniqueOrThrow({ where: { id } });
  }
}
