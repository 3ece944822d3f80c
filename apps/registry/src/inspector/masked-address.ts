import { isIPv4, isIPv6 } from 'node:net';

const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * A caller's address as the owner may see it: its /24 (IPv4) or /48 (IPv6) network, enough to
 * tell one caller's network from another's without naming a person's address.
 */
export function maskAddress(ip: string): string {
  let masked = recent.get(ip);
  if (masked === undefined) {
    // Every recorded request asks; a busy caller asks thousands of times a second.
    if (recent.size >= RECENT_LIMIT) recent.clear();
    masked = mask(ip);
    recent.set(ip, masked);
  }
  return masked;
}

/** Addresses masked lately (cleared when full: a bound, not an LRU; the callers' own, held briefly). */
const recent = new Map<string, string>();
const RECENT_LIMIT = 4096;

function mask(ip: string): string {
  const mapped = MAPPED_IPV4.exec(ip);
  const address = mapped ? mapped[1] : ip.split('%')[0];
  if (isIPv4(address)) return `${address.split('.').slice(0, 3).join('.')}.0/24`;
  if (!isIPv6(address)) return 'unknown';
  // The groups before `::` (all eight when there is none); missing leading ones are zeros.
  const [head] = address.split('::');
  const first = (head === '' ? [] : head.split(':')).slice(0, 3);
  while (first.length < 3) first.push('0');
  return `${first.map((g) => parseInt(g, 16).toString(16)).join(':')}::/48`;
}
