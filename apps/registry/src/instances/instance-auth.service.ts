import { Injectable } from '@nestjs/common';
import { parseBearerCredentials } from '@app/protocol';
import { instanceNotFound, unauthorized } from '../common/http-errors';
import { LimitsService } from '../limits/limits.service';
import { verifyPassword } from './credentials';
import { InstanceRecord, InstancesRepository } from './instances.repository';

/** Who is calling: the Authorization header and the client address (for failed-auth limits). */
export interface Caller {
  authorization: string | undefined;
  ip: string;
}

/**
 * Checks `Authorization: Bearer <id>:<password>` against an instance. Someone else's id and a
 * wrong password get the same 401; an id that does not exist (or was deleted) gets 404.
 */
@Injectable()
export class InstanceAuthService {
  constructor(
    private readonly instances: InstancesRepository,
    private readonly limits: LimitsService,
  ) {}

  async authenticate(caller: Caller, instanceId: string): Promise<InstanceRecord> {
    const credentials = parseBearerCredentials(caller.authorization);
    if (!credentials || credentials.instanceId !== instanceId) throw this.failed(caller.ip, null);
    return this.verify(instanceId, credentials.password, caller.ip);
  }

  /** The credential is always checked first: failures are counted, a correct password is never refused. */
  async verify(instanceId: string, password: string, ip: string): Promise<InstanceRecord> {
    const instance = await this.instances.findActive(instanceId);
    if (!instance) throw instanceNotFound(instanceId);
    if (!verifyPassword(password, instance.passwordHash)) throw this.failed(ip, instanceId);
    return instance;
  }

  private failed(ip: string, instanceId: string | null) {
    return this.limits.authFailed(ip, instanceId) ?? unauthorized();
  }
}
