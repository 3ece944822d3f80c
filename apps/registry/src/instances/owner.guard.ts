import {
  applyDecorators,
  CanActivate,
  createParamDecorator,
  Injectable,
  UseGuards,
  type ExecutionContext,
} from '@nestjs/common';
import { ApiBearerAuth, ApiParam } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { invalidField } from '../common/http-errors';
import { InstanceAuthService } from './instance-auth.service';
import type { InstanceRecord } from './instances.repository';

type OwnerRequest = FastifyRequest & { owner?: InstanceRecord };

/**
 * The owner's endpoints: `Authorization: Bearer <id>:<password>` of the instance the route acts on
 * (its `:instanceId`, or the body's `instance_id` where the path has none). Failed attempts count
 * towards the failed-auth limits (429); an unknown instance is 404 (InstanceAuthService). Runs
 * before the body is validated, so a stranger learns nothing about what the endpoint accepts.
 */
@Injectable()
export class OwnerGuard implements CanActivate {
  constructor(private readonly auth: InstanceAuthService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<OwnerRequest>();
    const params = request.params as { instanceId?: string };
    const instanceId = params.instanceId ?? (request.body as { instance_id?: unknown } | null)?.instance_id;
    if (typeof instanceId !== 'string') throw invalidField('instance_id', 'instance_id must be a string');
    const caller = { authorization: request.headers.authorization, ip: request.ip };
    request.owner = await this.auth.authenticate(caller, instanceId);
    return true;
  }
}

/** The instance whose owner OwnerGuard authenticated (the parameter of a guarded handler). */
export const Owner = createParamDecorator((_data: unknown, context: ExecutionContext): InstanceRecord => {
  const owner = context.switchToHttp().getRequest<OwnerRequest>().owner;
  if (!owner) throw new Error('@Owner() needs @UseGuards(OwnerGuard) on its handler');
  return owner;
});

/**
 * The owner's handlers (or a controller of them): OwnerGuard runs first, and OpenAPI shows the
 * bearer and where the instance is named (the path's `instanceId`, or the body's `instance_id`).
 */
export const OwnerOnly = (named: 'path' | 'body' = 'path') =>
  applyDecorators(
    UseGuards(OwnerGuard),
    ApiBearerAuth(),
    ...(named === 'path' ? [ApiParam({ name: 'instanceId', type: String })] : []),
  );
