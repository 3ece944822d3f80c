import type { ExecutionContext } from '@nestjs/common';
import { loadConfig } from '../config/app-config';
import { LimitsService } from '../limits/limits.service';
import { hashPassword } from './credentials';
import { InstanceAuthService } from './instance-auth.service';
import type { InstanceRecord, InstancesRepository } from './instances.repository';
import { OwnerGuard } from './owner.guard';

const mine = { id: 'mine', passwordHash: hashPassword('right') } as InstanceRecord;
const other = { id: 'other', passwordHash: hashPassword('theirs') } as InstanceRecord;

function setup(env: Record<string, string> = {}) {
  const rows = new Map([mine, other].map((row) => [row.id, row]));
  const repository = { findActive: (id: string) => Promise.resolve(rows.get(id) ?? null) };
  const limits = new LimitsService(loadConfig(env));
  const guard = new OwnerGuard(new InstanceAuthService(repository as unknown as InstancesRepository, limits));
  /** A request as Fastify hands it to the guard; resolves the owner it left, or the error's status. */
  const call = async (request: { params?: object; body?: unknown; authorization?: string }) => {
    const raw = {
      params: request.params ?? {},
      body: request.body,
      headers: { authorization: request.authorization },
      ip: '192.0.2.1',
    } as { owner?: InstanceRecord };
    const context = { switchToHttp: () => ({ getRequest: () => raw }) } as unknown as ExecutionContext;
    return guard.canActivate(context).then(
      () => raw.owner,
      (error: { status: number }) => error.status,
    );
  };
  return { call, rows };
}

describe('OwnerGuard', () => {
  it("lets the instance's owner in and hands the handler its record", async () => {
    const t = setup();
    expect(await t.call({ params: { instanceId: 'mine' }, authorization: 'Bearer mine:right' })).toBe(mine);
  });

  it('no credentials, another instance’s credentials or a wrong password: 401; an unknown or deleted instance: 404', async () => {
    const t = setup();
    const params = { instanceId: 'mine' };
    expect(await t.call({ params })).toBe(401);
    expect(await t.call({ params, authorization: 'Bearer other:theirs' })).toBe(401);
    expect(await t.call({ params, authorization: 'Bearer mine:wrong' })).toBe(401);
    t.rows.delete('mine');
    expect(await t.call({ params, authorization: 'Bearer mine:right' })).toBe(404);
  });

  it('counts failures: past AUTH_FAILURES_PER_IP_PER_MIN a wrong password is 429, the right one still passes', async () => {
    const t = setup({ AUTH_FAILURES_PER_IP_PER_MIN: '2' });
    const params = { instanceId: 'mine' };
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await t.call({ params, authorization: 'Bearer mine:wrong' }));
    expect(statuses).toEqual([401, 401, 429]);
    expect(await t.call({ params, authorization: 'Bearer mine:right' })).toBe(mine);
  });

  it("where the path names no instance, authenticates the body's instance_id (422 when it is not a string)", async () => {
    const t = setup();
    const auth = 'Bearer mine:right';
    expect(await t.call({ body: { instance_id: 'mine' }, authorization: auth })).toBe(mine);
    expect(await t.call({ body: { instance_id: 'other' }, authorization: auth })).toBe(401);
    expect(await t.call({ body: { instance_id: 42 }, authorization: auth })).toBe(422);
    expect(await t.call({ authorization: auth })).toBe(422);
  });
});
