import { loadConfig } from '../config/app-config';
import { hashAccessKey, issueAccessKey } from './access-key';
import { KEY_CACHE_MAX_BYTES, KeyDirectory } from './key-directory';
import type { ChatKeyRecord, KeysRepository } from './keys.repository';

const record = (over: Partial<ChatKeyRecord> = {}): ChatKeyRecord => ({
  id: 'key_1',
  instanceId: 'inst',
  models: null,
  endpoints: null,
  rpm: null,
  maxConcurrent: null,
  tokensPerDay: null,
  expiresAt: null,
  revokedAt: null,
  ...over,
});

/** A repository whose reads the test answers, one at a time, when it chooses. */
class HeldReads {
  reads = 0;
  private pending: Array<(row: ChatKeyRecord | null) => void> = [];
  read = (): Promise<ChatKeyRecord | null> => {
    this.reads++;
    return new Promise((resolve) => this.pending.push(resolve));
  };
  answer(row: ChatKeyRecord | null): void {
    this.pending.shift()?.(row);
  }
  // Both names: the test must fail on what it tests, not on the repository's method name.
  asRepository = () => ({ findForChat: this.read, findByHash: this.read }) as unknown as KeysRepository;
}

const hexOf = (secret: string) => Buffer.from(hashAccessKey(secret)).toString('hex');
const config = loadConfig({ KEY_CACHE_MS: '60000' });

describe('KeyDirectory', () => {
  it('caches a key after its first read: a second lookup reads nothing', async () => {
    const repo = new HeldReads();
    const keys = new KeyDirectory(repo.asRepository(), config);
    const { key } = issueAccessKey();
    const first = keys.lookup(key);
    repo.answer(record());
    expect(await first).toMatchObject({ id: 'key_1', revoked: false });
    expect(await keys.lookup(key)).toMatchObject({ id: 'key_1' });
    expect(repo.reads).toBe(1);
  });

  it('lookups of one key that miss together share one read (no query per waiting chat)', async () => {
    const repo = new HeldReads();
    const keys = new KeyDirectory(repo.asRepository(), config);
    const { key } = issueAccessKey();
    const lookups = Array.from({ length: 50 }, () => keys.lookup(key));
    expect(repo.reads).toBe(1);
    repo.answer(record());
    for (const found of await Promise.all(lookups)) expect(found).toMatchObject({ id: 'key_1' });
    expect(repo.reads).toBe(1);
  });

  it('does not cache a read that a revocation (forget) overtook: the next lookup reads again', async () => {
    const repo = new HeldReads();
    const keys = new KeyDirectory(repo.asRepository(), config);
    const { key } = issueAccessKey();
    const racing = keys.lookup(key);
    // Another node revoked the key while this read was under way; its broadcast lands first.
    keys.forget(hexOf(key));
    repo.answer(record());
    expect(await racing).toMatchObject({ revoked: false });

    const next = keys.lookup(key);
    expect(repo.reads).toBe(2);
    repo.answer(record({ revokedAt: new Date() }));
    expect(await next).toMatchObject({ revoked: true });
  });

  it('does not cache a read that a clear() overtook either', async () => {
    const repo = new HeldReads();
    const keys = new KeyDirectory(repo.asRepository(), config);
    const { key } = issueAccessKey();
    const racing = keys.lookup(key);
    keys.clear();
    repo.answer(record());
    await racing;
    void keys.lookup(key);
    expect(repo.reads).toBe(2);
  });

  it('keeps what it holds under KEY_CACHE_MAX_BYTES, dropping the oldest entries first', async () => {
    // 3,000 keys with 15 KiB of model names each: ~50 MiB if all were kept.
    const models = Array.from({ length: 60 }, (_, i) => `${'m'.repeat(250)}-${i}`);
    let reads = 0;
    const repo = { findForChat: async () => (reads++, record({ models })) };
    const keys = new KeyDirectory(
      { ...repo, findByHash: repo.findForChat } as unknown as KeysRepository,
      config,
    );
    const secrets = Array.from({ length: 3_000 }, () => issueAccessKey().key);
    for (const secret of secrets) await keys.lookup(secret);
    expect(keys.cachedBytes).toBeLessThanOrEqual(KEY_CACHE_MAX_BYTES);
    expect(keys.cachedBytes).toBeGreaterThan(KEY_CACHE_MAX_BYTES * 0.9);

    reads = 0;
    await keys.lookup(secrets[secrets.length - 1]);
    expect(reads).toBe(0);
    await keys.lookup(secrets[0]);
    expect(reads).toBe(1);
  });
});
