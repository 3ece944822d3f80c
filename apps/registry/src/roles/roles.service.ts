import { Injectable } from '@nestjs/common';
import type { Role as RoleView, RoleList, RoleRemoval } from '@app/contracts';
import type { Role } from '../database/generated/client';
import { ApiError } from '../common/http-errors';
import type { InstanceRecord } from '../instances/instances.repository';
import { UpsertRoleDto } from './dto/upsert-role.dto';
import { RolesRepository } from './roles.repository';

const view = (role: Role): RoleView => ({
  role_id: role.roleId,
  instance_id: role.instanceId,
  name: role.name,
  description: role.description,
  system_prompt: role.systemPrompt,
  is_active: role.isActive,
  icon: role.icon,
  enable_l0_retrieval: role.enableL0Retrieval,
  enable_l1_retrieval: role.enableL1Retrieval,
  created_at: role.createdAt.toISOString(),
  updated_at: role.updatedAt.toISOString(),
});

/** Roles of an instance; a chat's `metadata.role_id` names one. */
@Injectable()
export class RolesService {
  constructor(private readonly roles: RolesRepository) {}

  /** `owner` is the instance `dto.instance_id` names (OwnerGuard authenticated it). */
  async upsert(owner: InstanceRecord, dto: UpsertRoleDto): Promise<RoleView> {
    // null (allowed by @IsOptional) clears a text field and leaves a flag as it is (or its default).
    const text = (value: string | null | undefined) => (value === null ? '' : value);
    const flag = (value: boolean | null | undefined) => value ?? undefined;
    const role = await this.roles.upsert(owner.id, dto.role_id, {
      name: dto.name,
      description: text(dto.description),
      systemPrompt: text(dto.system_prompt),
      isActive: flag(dto.is_active),
      icon: text(dto.icon),
      enableL0Retrieval: flag(dto.enable_l0_retrieval),
      enableL1Retrieval: flag(dto.enable_l1_retrieval),
    });
    return view(role);
  }

  async list(owner: InstanceRecord): Promise<RoleList> {
    return { items: (await this.roles.listFor(owner.id)).map(view) };
  }

  async remove(owner: InstanceRecord, roleId: string): Promise<RoleRemoval> {
    if (!(await this.roles.remove(owner.id, roleId)))
      throw new ApiError(404, `role '${roleId}' not found`, { code: 'role_not_found' });
    return { instance_id: owner.id, role_id: roleId };
  }
}
