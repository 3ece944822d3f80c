import {
  generateInstanceId,
  generatePassword,
  hashPassword,
  INSTANCE_ID_PATTERN,
  verifyPassword,
} from './credentials';

describe('credentials', () => {
  it('issues short, URL-safe, distinct instance ids', () => {
    const ids = new Set(Array.from({ length: 2000 }, generateInstanceId));
    expect(ids.size).toBe(2000);
    for (const id of ids) {
      expect(id).toMatch(/^[a-z][a-z0-9]{11}$/);
      expect(id).toMatch(INSTANCE_ID_PATTERN);
    }
  });

  it('issues 256-bit passwords', () => {
    const password = generatePassword();
    expect(Buffer.from(password, 'base64url')).toHaveLength(32);
    expect(generatePassword()).not.toBe(password);
  });

  it('verifies only the password that was hashed', () => {
    const password = generatePassword();
    const stored = hashPassword(password);
    expect(verifyPassword(password, stored)).toBe(true);
    expect(verifyPassword(password + 'x', stored)).toBe(false);
    expect(verifyPassword('', stored)).toBe(false);
    expect(verifyPassword(password, stored.subarray(0, 16))).toBe(false);
  });
});
