import { Inject, Injectable } from '@nestjs/common';
import type {
  InstanceCard,
  InstanceCount,
  InstanceDetail,
  InstanceList,
  InstancePolicy,
  InstanceRemoval,
  InstanceStatus,
  InstanceUpdate,
  Registration,
} from '@app/contracts';
import { Paths } from '@app/protocol';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { instanceNotFound, invalidField } from '../common/http-errors';
import { Prisma } from '../database/generated/client';
import { LimitsService } from '../limits/limits.service';
import { OnlineInstances } from '../presence/online-instances';
import { modelUp, type ReplicaState } from '../presence/presence.store';
import { generateInstanceId, generatePassword, hashPassword, INSTANCE_ID_PATTERN } from './credentials';
import { maskEmail } from './email-mask';
import { Caller, InstanceAuthService } from './instance-auth.service';
import { InstanceEvents } from './instance-events';
import { asPolicy, asVisibility } from './instance-policy';
import { DirectoryRead, DirectoryReads } from './directory-reads';
import { InstanceHoldersRepository } from './instance-holders.repository';
import { deriveStatus } from './instance-status';
import { InstanceRecord, InstancesRepository } from './instances.repository';
import { publicModels, servedEndpoints } from './public-models';
import { RegisterInstanceDto } from './dto/register-instance.dto';
import { UpdateInstanceDto } from './dto/update-instance.dto';

const iso = (date: Date | null) => (date ? date.toISOString() : null);

@Injectable()
export class InstancesService {
  constructor(
    private readonly instances: InstancesRepository,
    private readonly auth: InstanceAuthService,
    private readonly online: OnlineInstances,
    private readonly events: InstanceEvents,
    private readonly limits: LimitsService,
    private readonly reads: DirectoryReads,
    private readonly holders: InstanceHoldersRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** New registration, or re-registration of an existing id (credentials required; the password rotates). */
  async register(dto: RegisterInstanceDto, caller: Caller, requestBaseUrl: string): Promise<Registration> {
    this.limits.assertRegistrationAllowed(caller.ip);
    const password = generatePassword();
    const metadata = {
      uploadName: dto.upload_name,
      description: dto.description ?? '',
      email: dto.email ?? '',
      config: (dto.config ?? dto.tags ?? {}) as object,
      passwordHash: hashPassword(password),
      ...this.accessFields(dto),
    };
    let record: InstanceRecord;
    if (dto.instance_id) {
      if (!INSTANCE_ID_PATTERN.test(dto.instance_id))
        throw invalidField('instance_id', 'instance_id is malformed');
      await this.auth.authenticate(caller, dto.instance_id);
      record = await this.instances.update(dto.instance_id, metadata);
      this.events.emit('accessChanged', { instanceId: record.id });
      // Hosts that authenticated with the old password are disconnected, wherever they are.
      this.events.emit('rotated', { instanceId: record.id, passwordHash: metadata.passwordHash });
    } else {
      record = await this.instances.create({ id: generateInstanceId(), ...metadata });
    }
    this.events.emit('listed', { instanceId: record.id });
    const online = await this.online.isOnline(record.id);
    return {
      instance_id: record.id,
      instance_password: password,
      status: deriveStatus(record, online),
      upload_name: record.uploadName,
      ws_url: this.wsUrl(record.id, requestBaseUrl),
    };
  }

  async detail(record: InstanceRecord): Promise<InstanceDetail> {
    const replicas = await this.online.replicas(record.id);
    const online = replicas.length > 0;
    return {
      model_reachable: modelReachable(replicas),
      upload_name: record.uploadName,
      instance_id: record.id,
      status: deriveStatus(record, online),
      description: record.description,
      email: record.email,
      config: record.config,
      capabilities: record.capabilities,
      registration_time: iso(record.registeredAt),
      last_heartbeat: iso(record.lastHeartbeat),
      is_connected: online,
      last_ws_check: iso(record.lastWsCheck),
      visibility: asVisibility(record.visibility),
      policy: asPolicy(record.policy),
      models: publicModels(record),
      endpoints: servedEndpoints(record),
      replicas: replicas
        .sort((a, b) => (a.replica < b.replica ? -1 : a.replica > b.replica ? 1 : 0))
        .map((r) => ({
          name: r.replica,
          node_id: r.nodeId,
          connected_at: new Date(r.connectedAt).toISOString(),
          capacity: r.capacity,
          in_flight: r.inFlight,
          draining: r.draining,
          model_status: r.modelStatus ?? null,
          model_detail: r.modelStatus ? (r.modelDetail ?? null) : null,
        })),
    };
  }

  async update(owner: InstanceRecord, dto: UpdateInstanceDto): Promise<InstanceUpdate> {
    const instanceId = owner.id;
    const updated_fields = (
      ['upload_name', 'capabilities', 'email', 'description', 'visibility', 'policy'] as const
    ).filter((field) => dto[field] !== undefined);
    // null clears a field (the columns are not nullable: '' for text, database NULL for capabilities).
    const record = await this.instances.update(instanceId, {
      uploadName: dto.upload_name,
      capabilities: dto.capabilities === null ? Prisma.DbNull : (dto.capabilities as object | undefined),
      email: dto.email === null ? '' : dto.email,
      description: dto.description === null ? '' : dto.description,
      ...this.accessFields(dto),
    });
    if (dto.visibility !== undefined || dto.policy !== undefined)
      this.events.emit('accessChanged', { instanceId });
    this.events.emit('listed', { instanceId });
    const online = await this.online.isOnline(instanceId);
    return {
      instance_id: record.id,
      status: deriveStatus(record, online),
      upload_name: record.uploadName,
      updated_fields,
    };
  }

  async remove(owner: InstanceRecord): Promise<InstanceRemoval> {
    const instanceId = owner.id;
    await this.instances.softDelete(instanceId);
    this.events.emit('deleted', { instanceId });
    return { instance_id: instanceId, status: 'unregistered' };
  }

  /** A page of the public directory; shared by this node's callers (DirectoryReads). */
  async list(
    pageNo: number,
    pageSize: number,
    statuses: InstanceStatus[],
  ): Promise<DirectoryRead<InstanceList>> {
    if (pageNo > this.config.limits.maxPageNo)
      throw invalidField('page_no', `page_no must not be greater than ${this.config.limits.maxPageNo}`);
    const wanted = [...new Set(statuses)].sort();
    return this.reads.get(`list:${pageNo}:${pageSize}:${wanted.join(',')}`, async () => {
      // The total is the count of these statuses, shared by every page and size.
      const [rows, { value: counted }] = await Promise.all([
        this.instances.list(wanted, this.online.liveNodeIds(), (pageNo - 1) * pageSize, pageSize),
        this.count(wanted),
      ]);
      const total = counted.count;
      return {
        items: rows.map((row) => ({
          upload_name: row.uploadName,
          instance_id: row.id,
          description: row.description,
          email: maskEmail(row.email),
          status: deriveStatus(row, row.online),
          models: publicModels(row),
          model_reachable: row.online ? !row.modelDown : null,
        })),
        pagination: { page_no: pageNo, page_size: pageSize, total, total_pages: Math.ceil(total / pageSize) },
      };
    });
  }

  /**
   * One instance's public card (the console's instance page). A private instance shows only that it
   * is private and whether it is online: its name, description and models are the owner's to share.
   */
  async publicCard(instanceId: string): Promise<InstanceCard> {
    const record = await this.instances.findActive(instanceId);
    if (!record) throw instanceNotFound(instanceId);
    const replicas = await this.online.replicas(record.id);
    const status = deriveStatus(record, replicas.length > 0);
    const model_reachable = modelReachable(replicas);
    const visibility = asVisibility(record.visibility);
    if (visibility === 'private') return { instance_id: record.id, visibility, status, model_reachable };
    return {
      instance_id: record.id,
      visibility,
      upload_name: record.uploadName,
      description: record.description,
      status,
      models: publicModels(record),
      endpoints: servedEndpoints(record),
      registration_time: record.registeredAt.toISOString(),
      model_reachable,
    };
  }

  async count(statuses: InstanceStatus[]): Promise<DirectoryRead<InstanceCount>> {
    const wanted = [...new Set(statuses)].sort();
    return this.reads.get(`count:${wanted.join(',')}`, async () => ({
      count: await this.instances.count(wanted, this.online.liveNodeIds()),
    }));
  }

  /** Instances online now, private ones included (for operators: metrics, the cluster view's total). */
  async onlineCount(): Promise<number> {
    const read = await this.reads.get('online-all', () =>
      this.holders.countOnline(this.online.liveNodeIds()),
    );
    return read.value;
  }

  /** Visibility and policy as columns; absent fields are left alone, a null policy clears it. */
  private accessFields(dto: Pick<UpdateInstanceDto, 'visibility' | 'policy'>) {
    const policy = dto.policy as InstancePolicy | null | undefined;
    if (policy?.allowed_models !== undefined && policy.pinned_model !== undefined)
      throw invalidField('policy', 'policy: give allowed_models or pinned_model, not both');
    // endpoints: null means all of them, as absent does: it is not stored.
    const { endpoints, ...rest } = policy ?? {};
    return {
      visibility: dto.visibility,
      policy:
        policy === null
          ? Prisma.DbNull
          : policy === undefined
            ? undefined
            : { ...rest, ...(endpoints != null && { endpoints: [...new Set(endpoints)] }) },
    };
  }

  private wsUrl(instanceId: string, requestBaseUrl: string): string {
    const base = new URL(this.config.publicUrl ?? requestBaseUrl);
    const scheme = base.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${base.host}${base.pathname.replace(/\/$/, '')}${Paths.hostSocket(instanceId)}`;
  }
}

/** Online: whether some replica's model is not known to be down; null when none is connected. */
const modelReachable = (replicas: readonly ReplicaState[]): boolean | null =>
  replicas.length === 0 ? null : replicas.some(modelUp);
