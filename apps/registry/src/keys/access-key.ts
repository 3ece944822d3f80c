import { hash, randomBytes } from 'node:crypto';

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
  return new Uint8Array(Buffer.from(accessKeyId(key), 'hex'));
}

/**
 * The hex SHA-256 of a key: what the key cache is indexed by, so a chat with a key hashes it once.
 * The one-shot `crypto.hash` on purpose: in a server that hashes once per request (caches cold),
 * `createHash().update().digest()` measured 40–70 µs per call (a Hash object and an OpenSSL
 * digest fetch each time), `crypto.hash` about 10 µs (docs/performance.md, the private path).
 */
export function accessKeyId(key: string): string {
  return hash('sha256', key, 'hex');
}

/** The key in `Authorization: Bearer sk-…`, or null when the header carries none of ours. */
export function presentedKey(authorization: string | undefined): string | null {
  if (!authorization || authorization.length !== 53) return null;
  if (!/^bearer /i.test(authorization)) return null;
  const token = authorization.slice(7);
  return ACCESS_KEY_PATTERN.test(token) ? token : null;
}

export const newKeyId = () => `key_${randomBytes(9).toString('base64url')}`;
