import { keySlot } from './key-slot';

describe('keySlot', () => {
  it('matches the slots Redis reports (CLUSTER KEYSLOT)', () => {
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('somekey')).toBe(11058);
  });

  it('hashes only the hash tag, so tagged names share a slot', () => {
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
    expect(keySlot('{mreg:node:a}:req')).toBe(keySlot('{mreg:node:a}:rep'));
  });

  it('hashes the whole name when the tag is empty or unclosed', () => {
    expect(keySlot('foo{}{bar}')).not.toBe(keySlot('bar'));
    expect(keySlot('foo{bar')).not.toBe(keySlot('bar'));
  });
});
