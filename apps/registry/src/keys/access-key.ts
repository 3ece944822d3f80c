import { createHash, randomBytes } from 'node:crypto';

/** `sk-` + 256 random bits in base64url: what OpenAI SDKs send as `apiKey`. */
export const ACCESS_KEY_PATTERN = /^sk-[A-Za-z0-9_-]{43}$/;
/** Characters of the key shown in listings: enough to tell keys apart, far too few to use one. */
const PREFIX_LENGTH = 10;

export interface IssuedKey {
  key: string;
  hash: Uint8Array<ArrayBuffer>;
  prefix: string;
}

export function issueAccessKey(): IssuedKey {
  const key = `sk-${randomBytes(32).toString('base64url')}`;
  return { key, hash: hashAccessKey(key), prefix: key.slice(0, PREFIX_LENGTH) };
}

/** SHA-256, like instance passwords: keys are random, so a slow hash would protect nothing. */
export function hashAccessKey(key: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(createHash('sha256').update(key, 'utf8').digest());
}

/** The key in `Authorization: Bearer sk-…`, or null when the header carries none of ours. */
export function presentedKey(authorization: string | undefined): string | null {
  if (!authorization || authorization.length !== 53) return null;
  if (!/^bearer /i.test(authorization)) return null;
  const token = authorization.slice(7);
  return ACCESS_KEY_PATTERN.test(token) ? token : null;
}

export const newKeyId = () => `key_${randomBytes(9).toString('base64url')}`;
