import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** 12 characters of [a-z0-9] ≈ 62 bits: short and URL-safe like Second Me's ids, and not guessable. */
const ID_LENGTH = 12;

export function generateInstanceId(): string {
  let id = '';
  // First character is a letter so ids never look like numbers in logs or spreadsheets.
  id += ID_ALPHABET[randomInt(26)];
  for (let i = 1; i < ID_LENGTH; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

export const INSTANCE_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{2,63}$/;

/** 256-bit random secret, base64url (43 characters). */
export function generatePassword(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 is enough for 256-bit random secrets: there is nothing to brute-force that a slow hash would slow. */
export function hashPassword(password: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(createHash('sha256').update(password, 'utf8').digest());
}

/** Constant-time comparison on fixed-length digests. */
export function verifyPassword(password: string, storedHash: Uint8Array): boolean {
  const candidate = hashPassword(password);
  if (storedHash.length !== candidate.length) return false;
  return timingSafeEqual(candidate, storedHash);
}
