import { createHash } from 'node:crypto';
import { accessKeyId, hashAccessKey, issueAccessKey, presentedKey } from './access-key';

describe('access keys', () => {
  it('issues sk- keys with 256 random bits, a short display prefix and a SHA-256 hash', () => {
    const issued = issueAccessKey();
    expect(issued.key).toMatch(/^sk-[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(issued.key.slice(3), 'base64url')).toHaveLength(32);
    expect(issued.key.startsWith(issued.prefix)).toBe(true);
    expect(issued.prefix.length).toBeLessThan(16);
    expect(Buffer.from(issued.hash)).toEqual(Buffer.from(hashAccessKey(issued.key)));
    expect(issueAccessKey().key).not.toBe(issued.key);
  });

  it('hashes with SHA-256 as stored keys were hashed (the cache id is its hex)', () => {
    const { key } = issueAccessKey();
    const stored = createHash('sha256').update(key, 'utf8').digest();
    expect(accessKeyId(key)).toBe(stored.toString('hex'));
    expect(Buffer.from(hashAccessKey(key))).toEqual(stored);
    expect(accessKeyId('sk-abc')).toBe('1460db1b6902f8b1fc2a40d9381a24d0fd22c3bc1b2c6f999c521da73776fbe0');
  });

  it('reads only our key format from a bearer header', () => {
    const { key } = issueAccessKey();
    expect(presentedKey(`Bearer ${key}`)).toBe(key);
    expect(presentedKey(`bearer ${key}`)).toBe(key);
    expect(presentedKey(undefined)).toBeNull();
    expect(presentedKey('Bearer unused')).toBeNull();
    expect(presentedKey(`Bearer ${key}x`)).toBeNull();
    expect(presentedKey(`Basic ${key}`)).toBeNull();
  });
});
