import { Injectable } from '@nestjs/common';
import { parseBearerCredentials } from '@app/protocol';
import { instanceNotFound, unauthorized } from '../common/http-errors';
import { verifyPassword } from './credentials';
import { InstanceRecord, InstancesRepository } from './instances.repository';

/**
 * Checks `Authorization: Bearer <id>:<password>` against an instance. Someone else's id and a
 * wrong password get the same 401; an id that does not exist (or was deleted) gets 404.
 */
@Injectable()
export class InstanceAuthService {
  constructor(private readonly instances: InstancesRepository) {}

  async authenticate(authorization: string | undefined, instanceId: string): Promise<InstanceRecord> {
    const credentials = parseBearerCredentials(authorization);
    if (!credentials || credentials.instanceId !== instanceId) throw unauthorized();
    return this.verify(instanceId, credentials.password);
  }

  async verify(instanceId: string, password: string): Promise<InstanceRecord> {
    const instance = await this.instances.findActive(instanceId);
    if (!instance) throw instanceNotFound(instanceId);
    if (!verifyPassword(password, instance.passwordHash)) throw unauthorized();
    return instance;
  }
}
