import { loadConfig } from '../config/app-config';
import { LimitsService } from '../limits/limits.service';
import { issueAccessKey } from './access-key';
import { ChatAccess } from './chat-access.service';
import type { KeyCounters } from './key-counters';
import type { KeyDirectory, KnownKey } from './key-directory';
import type { TokenBudgets } from './token-budgets';

const known = (over: Partial<KnownKey> = {}): KnownKey => ({
  id: 'key_1',
  instanceId: 'mine',
  models: null,
  firstModel: null,
  endpoints: null,
  rpm: 5,
  maxConcurrent: null,
  tokensPerDay: null,
  expiresAt: null,
  revoked: false,
  ...over,
});

function accessWith(key: KnownKey | null) {
  const config = loadConfig({ AUTH_FAILURES_PER_IP_PER_MIN: '2' });
  const directory = { lookup: async () => key } as unknown as KeyDirectory;
  const access = new ChatAccess(
    directory,
    {} as KeyCounters,
    {} as TokenBudgets,
    new LimitsService(config),
    config,
  );
  const bearer = `Bearer ${issueAccessKey().key}`;
  return {
    /** `null`: no Authorization header. */
    identify: (visibility: 'public' | 'private', authorization: string | null = bearer) =>
      access.identify('mine', visibility, authorization ?? undefined, '203.0.113.9'),
  };
}

const refused = (message: string) => expect.objectContaining({ status: 401, message });

describe('ChatAccess.identify', () => {
  it("answers the instance's live key on either visibility", async () => {
    for (const visibility of ['public', 'private'] as const)
      expect(await accessWith(known()).identify(visibility)).toMatchObject({ id: 'key_1' });
  });

  it('refuses a revoked or expired key of the instance with 401 on a public instance too', async () => {
    for (const visibility of ['public', 'private'] as const) {
      await expect(accessWith(known({ revoked: true })).identify(visibility)).rejects.toEqual(
        refused('this access key was revoked'),
      );
      await expect(accessWith(known({ expiresAt: Date.now() - 1 })).identify(visibility)).rejects.toEqual(
        refused('this access key has expired'),
      );
    }
  });

  it("ignores, on a public instance, an unknown key, another instance's key and non-keys (SDK placeholders)", async () => {
    expect(await accessWith(null).identify('public')).toBeNull();
    expect(await accessWith(known({ instanceId: 'other' })).identify('public')).toBeNull();
    expect(await accessWith(known({ instanceId: 'other', revoked: true })).identify('public')).toBeNull();
    expect(await accessWith(known()).identify('public', 'Bearer unused')).toBeNull();
    expect(await accessWith(known()).identify('public', null)).toBeNull();
  });

  it('refuses on a private instance any key not its own, and counts those as failed authentications', async () => {
    const access = accessWith(known({ instanceId: 'other' }));
    await expect(access.identify('private')).rejects.toEqual(refused('invalid access key'));
    await expect(access.identify('private')).rejects.toEqual(refused('invalid access key'));
    await expect(access.identify('private')).rejects.toEqual(expect.objectContaining({ status: 429 }));
    await expect(accessWith(null).identify('private', null)).rejects.toEqual(
      expect.objectContaining({ status: 401, message: expect.stringContaining('is private') }),
    );
  });
});
