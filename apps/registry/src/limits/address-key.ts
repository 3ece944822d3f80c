import { isIPv6 } from 'node:net';

const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * The key per-address limits count under: an IPv4 address as is, an IPv6 address by its /64
 * network (one subscriber or one server usually holds a whole /64, so counting single IPv6
 * addresses would let one client act as billions of addresses).
 */
export function addressKey(ip: string): string {
  if (!ip.includes(':')) return ip;
  const mapped = MAPPED_IPV4.exec(ip);
  if (mapped) return mapped[1];
  const groups = ipv6Groups(ip);
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : ip;
}

/** The eight 16-bit groups of an IPv6 address (hex, no leading zeros); null if it is not one. */
function ipv6Groups(address: string): string[] | null {
  const ip = address.split('%')[0];
  if (!isIPv6(ip)) return null;
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, null];
  const parse = (part: string | null) => (part ? part.split(':').flatMap(dottedTail) : []);
  const left = parse(head);
  const right = parse(tail);
  const zeros = tail === null ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((group) => parseInt(group, 16).toString(16));
}

/** An embedded IPv4 tail (`::ffff:1.2.3.4`, `64:ff9b::1.2.3.4`) is two 16-bit groups. */
function dottedTail(group: string): string[] {
  if (!group.includes('.')) return [group];
  const [a, b, c, d] = group.split('.').map(Number);
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}
