import { createHash } from 'node:crypto';

/** `-` and six hex digits of the upstream's hash. */
const SUFFIX_LENGTH = 7;
/** REPLICA_NAME allows 64 characters; the hostname gets what the suffix leaves. */
const MAX_HOST_PART = 64 - SUFFIX_LENGTH;
/** Stands in for a hostname with nothing usable in it. */
const FALLBACK_HOST = 'host';

/**
 * The replica name an agent uses when given none: `<hostname>-<6 hex of sha256(upstream URL)>`.
 * Stable across restarts (so a restarted agent replaces its own earlier connection, not a
 * sibling's) and different for two agents on one machine serving different model servers.
 * Always matches REPLICA_NAME, whatever the hostname holds.
 */
export function defaultReplicaName(hostname: string, upstreamUrl: string): string {
  const hash = createHash('sha256').update(normaliseUpstream(upstreamUrl)).digest('hex');
  return `${sanitiseHostname(hostname)}-${hash.slice(0, 6)}`;
}

/**
 * Lower case (hostnames are case-insensitive), accents dropped, every run of characters outside
 * the replica alphabet turned into one `-`, no separator at either end, at most MAX_HOST_PART long.
 */
function sanitiseHostname(hostname: string): string {
  const cleaned = hostname
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+/, '')
    .slice(0, MAX_HOST_PART)
    .replace(/[._-]+$/, '');
  return cleaned === '' ? FALLBACK_HOST : cleaned;
}

/**
 * The same model server gives the same hash however it was written: scheme and host in lower
 * case, default port and trailing slashes dropped, and no user info (a changed upstream password
 * must not rename the replica).
 */
function normaliseUpstream(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return raw.trim();
  }
  url.username = '';
  url.password = '';
  url.hash = '';
  return url.toString().replace(/\/+$/, '');
}
