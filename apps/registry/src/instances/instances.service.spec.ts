import { HookedPresenceStore } from '../../../../test/doubles/hooked-presence-store';
import {
  MemoryHoldersRepository,
  MemoryInstancesRepository,
} from '../../../../test/doubles/memory-repositories';
import { RecordingBus } from '../../../../test/doubles/recording-bus';
import { LiveNodes } from '../cluster/live-nodes';
import { ApiError } from '../common/http-errors';
import { loadConfig } from '../config/app-config';
import { LimitsService } from '../limits/limits.service';
import { OnlineInstances } from '../presence/online-instances';
import { hashPassword, INSTANCE_ID_PATTERN } from './credentials';
import { DirectoryReads } from './directory-reads';
import { Caller, InstanceAuthService } from './instance-auth.service';
import { InstanceEventMap, InstanceEvents } from './instance-events';
import { InstancesService } from './instances.service';
import type { RegisterInstanceDto } from './dto/register-instance.dto';
import type { UpdateInstanceDto } from './dto/update-instance.dto';

/** The service over doubles; nodes in `deadNodes` no longer listen (killed). */
function setup(env: Record<string, string> = {}) {
  const config = loadConfig(env);
  const holders = new MemoryHoldersRepository();
  const repository = new MemoryInstancesRepository(holders);
  const presence = new HookedPresenceStore('me');
  const bus = new RecordingBus('me');
  const liveNodes = new LiveNodes(bus);
  const limits = new LimitsService(config);
  const events = new InstanceEvents();
  const emitted: Array<[keyof InstanceEventMap, unknown]> = [];
  for (const name of ['deleted', 'rotated', 'accessChanged'] as const)
    events.on(name, (payload) => emitted.push([name, payload]));
  const auth = new InstanceAuthService(repository, limits);
  /** What OwnerGuard hands the service: the instance, once `caller` proved to own it. */
  const owner = (id: string, caller: Caller) => auth.authenticate(caller, id);
  const service = new InstancesService(
    repository,
    auth,
    new OnlineInstances(presence, liveNodes),
    events,
    limits,
    new DirectoryReads(liveNodes, events, config),
    holders,
    config,
  );
  const register = async (dto: Partial<RegisterInstanceDto> = {}, authorization?: string) => {
    const answer = await service.register(
      { upload_name: 'my model', instance_id: null, ...dto },
      { authorization, ip: '192.0.2.1' },
      'http://registry.test',
    );
    return {
      ...answer,
      caller: { authorization: `Bearer ${answer.instance_id}:${answer.instance_password}`, ip: '192.0.2.1' },
    };
  };
  return { service, repository, holders, presence, deadNodes: bus.deadNodes, emitted, register, owner };
}

/** The status and fields of the ApiError a call rejected with. */
async function rejection(promise: Promise<unknown>) {
  const error = (await promise.then(
    () => null,
    (e: unknown) => e,
  )) as ApiError | null;
  if (!(error instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(error)}`);
  return { status: error.getStatus(), param: error.details.param, message: error.message };
}

describe('InstancesService', () => {
  describe('register', () => {
    it('a new instance gets an id, a password shown once (stored only as its hash) and its ws_url', async () => {
      const t = setup();
      const answer = await t.register({ description: 'd', email: 'me@example.com' });
      expect(answer.instance_id).toMatch(INSTANCE_ID_PATTERN);
      expect(answer.instance_password).toHaveLength(43);
      expect(answer.status).toBe('registered');
      expect(answer.ws_url).toBe(`ws://registry.test/api/ws/${answer.instance_id}`);
      const row = t.repository.rows.get(answer.instance_id)!;
      expect(Buffer.from(row.passwordHash)).toEqual(Buffer.from(hashPassword(answer.instance_password)));
      expect(JSON.stringify(row)).not.toContain(answer.instance_password);
      expect(t.emitted).toEqual([]);
    });

    it('builds ws_url from PUBLIC_URL when set (https → wss, path kept)', async () => {
      const t = setup({ PUBLIC_URL: 'https://models.example.com/registry/' });
      const answer = await t.register();
      expect(answer.ws_url).toBe(`wss://models.example.com/registry/api/ws/${answer.instance_id}`);
    });

    it('re-registering with the credentials rotates the password and tells hosts holding the old one', async () => {
      const t = setup();
      const first = await t.register();
      const again = await t.register(
        { instance_id: first.instance_id, upload_name: 'renamed' },
        first.caller.authorization,
      );
      expect(again.instance_id).toBe(first.instance_id);
      expect(again.instance_password).not.toBe(first.instance_password);
      expect(again.upload_name).toBe('renamed');
      expect((await rejection(t.owner(first.instance_id, first.caller))).status).toBe(401);
      expect((await t.service.detail(await t.owner(first.instance_id, again.caller))).upload_name).toBe(
        'renamed',
      );
      expect(t.emitted).toEqual([
        ['accessChanged', { instanceId: first.instance_id }],
        ['rotated', { instanceId: first.instance_id, passwordHash: hashPassword(again.instance_password) }],
      ]);
    });

    it('re-registering without the right credentials changes nothing: 401, or 404 for an unknown id, 422 for a malformed one', async () => {
      const t = setup();
      const first = await t.register();
      const wrong = `Bearer ${first.instance_id}:not-the-password`;
      expect((await rejection(t.register({ instance_id: first.instance_id }, wrong))).status).toBe(401);
      expect((await rejection(t.register({ instance_id: first.instance_id }))).status).toBe(401);
      expect(
        (await rejection(t.register({ instance_id: 'nosuchinstance' }, 'Bearer nosuchinstance:x'))).status,
      ).toBe(404);
      expect(await rejection(t.register({ instance_id: 'NOT VALID!' }))).toMatchObject({
        status: 422,
        param: 'instance_id',
      });
      expect((await t.service.detail(await t.owner(first.instance_id, first.caller))).instance_id).toBe(
        first.instance_id,
      );
      expect(t.emitted).toEqual([]);
    });
  });

  describe('detail, update and remove authenticate', () => {
    it('no credentials, another instance’s credentials or a wrong password: 401; a deleted instance: 404', async () => {
      const t = setup();
      const mine = await t.register();
      const other = await t.register();
      const id = mine.instance_id;
      const callers = [
        { authorization: undefined, ip: '192.0.2.9' },
        other.caller,
        { authorization: `Bearer ${id}:wrong`, ip: '192.0.2.9' },
      ];
      for (const caller of callers) {
        expect((await rejection(t.owner(id, caller))).status).toBe(401);
      }
      expect(t.repository.rows.get(id)!.description).toBe('');
      expect(t.emitted).toEqual([]);

      expect(await t.service.remove(await t.owner(id, mine.caller))).toEqual({
        instance_id: id,
        status: 'unregistered',
      });
      expect(t.emitted).toEqual([['deleted', { instanceId: id }]]);
      expect((await rejection(t.owner(id, mine.caller))).status).toBe(404);
    });
  });

  describe('update', () => {
    it('changes the fields given, leaves the others, and null clears a field', async () => {
      const t = setup();
      const mine = await t.register({ description: 'about', email: 'me@example.com' });
      const id = mine.instance_id;
      const set = await t.service.update(await t.owner(id, mine.caller), {
        capabilities: { vision: true },
        upload_name: 'new',
      });
      expect(set).toEqual({
        instance_id: id,
        status: 'registered',
        upload_name: 'new',
        updated_fields: ['upload_name', 'capabilities'],
      });
      expect(t.repository.rows.get(id)!).toMatchObject({ description: 'about', email: 'me@example.com' });
      const cleared = await t.service.update(await t.owner(id, mine.caller), {
        email: null,
        description: null,
        capabilities: null,
      });
      expect(cleared.updated_fields).toEqual(['capabilities', 'email', 'description']);
      const detail = await t.service.detail(await t.owner(id, mine.caller));
      expect(detail).toMatchObject({ upload_name: 'new', email: '', description: '', capabilities: null });
    });

    it('visibility or policy changes emit accessChanged; other fields do not', async () => {
      const t = setup();
      const mine = await t.register();
      const id = mine.instance_id;
      await t.service.update(await t.owner(id, mine.caller), { description: 'only text' });
      expect(t.emitted).toEqual([]);
      await t.service.update(await t.owner(id, mine.caller), { visibility: 'private' });
      await t.service.update(await t.owner(id, mine.caller), {
        policy: { max_tokens: 100 },
      } as UpdateInstanceDto);
      expect(t.emitted).toEqual([
        ['accessChanged', { instanceId: id }],
        ['accessChanged', { instanceId: id }],
      ]);
      expect(await t.service.detail(await t.owner(id, mine.caller))).toMatchObject({
        visibility: 'private',
        policy: { max_tokens: 100 },
      });
      await t.service.update(await t.owner(id, mine.caller), { policy: null });
      expect((await t.service.detail(await t.owner(id, mine.caller))).policy).toBeNull();
      expect(t.emitted).toHaveLength(3);
    });

    it('refuses a policy with both allowed_models and pinned_model (422 naming policy), changing nothing', async () => {
      const t = setup();
      const mine = await t.register();
      const policy = { allowed_models: ['a'], pinned_model: 'a' };
      expect(
        await rejection(
          t.service.update(await t.owner(mine.instance_id, mine.caller), { policy } as UpdateInstanceDto),
        ),
      ).toMatchObject({ status: 422, param: 'policy' });
      expect(t.repository.rows.get(mine.instance_id)!.policy).toBeNull();
      expect(t.emitted).toEqual([]);
    });
  });

  describe('online, list and count', () => {
    it('detail, list and count agree on online: a record naming a live node, never one naming a dead node', async () => {
      const t = setup();
      const here = await t.register({ email: 'here@example.com' });
      const ghost = await t.register();
      const never = await t.register();
      t.repository.rows.get(ghost.instance_id)!.firstConnectedAt = new Date();
      t.presence.claimElsewhere(here.instance_id, 'me');
      t.presence.claimElsewhere(ghost.instance_id, 'killed');
      await t.holders.hold(here.instance_id, 'me');
      await t.holders.hold(ghost.instance_id, 'killed');
      t.deadNodes.add('killed');

      expect(await t.service.detail(await t.owner(here.instance_id, here.caller))).toMatchObject({
        status: 'online',
        is_connected: true,
      });
      expect(await t.service.detail(await t.owner(ghost.instance_id, ghost.caller))).toMatchObject({
        status: 'offline',
        is_connected: false,
      });
      const { value: list } = await t.service.list(1, 10, []);
      expect(list.items.map((i) => [i.instance_id, i.status])).toEqual([
        [here.instance_id, 'online'],
        [ghost.instance_id, 'offline'],
        [never.instance_id, 'registered'],
      ]);
      expect(list.items[0].email).toBe('h***@example.com');
      expect((await t.service.count(['online'])).value).toEqual({ count: 1 });
      expect((await t.service.count(['offline', 'registered'])).value).toEqual({ count: 2 });
      expect((await t.service.count([])).value).toEqual({ count: 3 });
      // Only the live nodes reach the query, never a list of instances.
      expect(t.repository.liveNodesSeen.slice(0, 3)).toEqual([['me'], ['me'], ['me']]);
    });

    it('pages the list and refuses a page_no above LIST_MAX_PAGE_NO with 422 naming page_no', async () => {
      const t = setup({ LIST_MAX_PAGE_NO: '5' });
      for (let i = 0; i < 3; i++) await t.register({ upload_name: `m${i}` });
      const { value: page } = await t.service.list(2, 2, []);
      expect(page.items.map((i) => i.upload_name)).toEqual(['m2']);
      expect(page.pagination).toEqual({ page_no: 2, page_size: 2, total: 3, total_pages: 2 });
      expect(await rejection(t.service.list(6, 2, []))).toMatchObject({ status: 422, param: 'page_no' });
      expect((await t.service.list(5, 2, [])).value.items).toEqual([]);
    });
  });
});
