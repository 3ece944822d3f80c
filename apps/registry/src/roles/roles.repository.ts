import { Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service';
import type { Prisma, Role } from '../database/generated/client';

@Injectable()
export class RolesRepository {
  constructor(private readonly prisma: PrismaService) {}

  upsert(
    instanceId: string,
    roleId: string,
    data: Omit<Prisma.RoleUncheckedCreateInput, 'instanceId' | 'roleId'>,
  ): Promise<Role> {
    return this.prisma.role.upsert({
      where: { instanceId_roleId: { instanceId, roleId } },
      create: { instanceId, roleId, ...data },
      update: data,
    });
  }

  listFor(instanceId: string): Promise<Role[]> {
    return this.prisma.role.findMany({ where: { instanceId }, orderBy: { createdAt: 'asc' } });
  }

  find(instanceId: string, roleId: string): Promise<Role | null> {
    return this.prisma.role.findUnique({ where: { instanceId_roleId: { instanceId, roleId } } });
  }

  async remove(instanceId: string, roleId: string): Promise<boolean> {
    const { count } = await this.prisma.role.deleteMany({ where: { instanceId, roleId } });
    return count > 0;
  }
}
