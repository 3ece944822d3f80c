import { loadConfig } from '../config/app-config';
import { InstanceEvents } from '../instances/instance-events';
import type { InstanceRecord, InstancesRepository } from '../instances/instances.repository';
import { InstanceDirectory } from './instance-directory';

/** A repository whose reads the test answers, in order, when it chooses. */
class HeldReads {
  reads = 0;
  private pending: Array<(row: InstanceRecord | null) => void> = [];
  asRepository = () =>
    ({
      findActive: () => {
        this.reads++;
        return new Promise<InstanceRecord | null>((resolve) => this.pending.push(resolve));
      },
    }) as unknown as InstancesRepository;
  /** Answers the oldest read still waiting, or the `nth` one (0 = oldest) given. */
  answer(row: InstanceRecord | null, nth = 0): void {
    this.pending.splice(nth, 1)[0]?.(row);
  }
}

const row = (visibility: string) => ({ id: 'inst', visibility, policy: null }) as unknown as InstanceRecord;

function directory(cacheMs: number) {
  const repo = new HeldReads();
  const events = new InstanceEvents();
  const dir = new InstanceDirectory(
    repo.asRepository(),
    events,
    loadConfig({ CHAT_INSTANCE_CACHE_MS: String(cacheMs) }),
  );
  dir.onModuleInit();
  return { repo, events, dir };
}

describe('InstanceDirectory', () => {
  it('chats that find no entry at the same time share one database read', async () => {
    const { repo, dir } = directory(60_000);
    const lookups = Array.from({ length: 64 }, () => dir.lookup('inst'));
    expect(repo.reads).toBe(1);
    repo.answer(row('public'));
    for (const entry of await Promise.all(lookups)) expect(entry).toMatchObject({ exists: true });
    await dir.lookup('inst');
    expect(repo.reads).toBe(1);
  });

  it('an expired entry is read again, once for all the chats waiting on it', async () => {
    const { repo, dir } = directory(0);
    const first = dir.lookup('inst');
    repo.answer(row('public'));
    await first;
    const again = Array.from({ length: 10 }, () => dir.lookup('inst'));
    expect(repo.reads).toBe(2);
    repo.answer(row('public'));
    await Promise.all(again);
  });

  it('a read that a change of access overtook is not cached: the next chat reads again', async () => {
    const { repo, events, dir } = directory(60_000);
    const racing = dir.lookup('inst');
    // Made private on another node while this read was under way; the broadcast lands first.
    events.emit('accessChanged', { instanceId: 'inst' });
    const next = dir.lookup('inst');
    expect(repo.reads).toBe(2);
    // The newer read ends first; the older one, with what was true before the change, after it.
    repo.answer(row('private'), 1);
    expect(await next).toMatchObject({ visibility: 'private' });
    repo.answer(row('public'));
    expect(await racing).toMatchObject({ visibility: 'public' });
    expect(await dir.lookup('inst')).toMatchObject({ visibility: 'private' });
    expect(repo.reads).toBe(2);
  });
});
