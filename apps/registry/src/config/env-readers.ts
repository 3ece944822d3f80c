// Readers of one environment variable each, for loadConfig: parsed, checked, refused naming the variable.
import { ConfigError, parseBoolSetting, parseChoiceSetting, parseIntSetting, switchWord } from '@app/common';
import type { TrustProxy } from './app-config';

/** `variable` is set to something unusable: the message names both. */
export const invalid = (variable: string, problem: string) =>
  new ConfigError(`Invalid configuration: ${variable} ${problem}`);

export type Env = Record<string, string | undefined>;

/** The shared parsers (libs/common: the agent reads its settings the same way), with this app's prefix. */
function shared<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(`Invalid configuration: ${error.message}`);
    throw error;
  }
}

export const int = (env: Env, name: string, fallback: number, min: number, max: number): number =>
  shared(() => parseIntSetting(name, env[name], fallback, min, max));

export function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw invalid(name, 'is not a valid URL');
  }
  if (!protocols.includes(parsed.protocol))
    throw invalid(name, `must use ${protocols.join(' or ')}, got ${parsed.protocol}`);
  return raw;
}

/** `host:port,host:port,...`; a host may be a bracketed IPv6 address (`[::1]:7000`). */
export function seedNodes(env: Env, name: string): { host: string; port: number }[] | undefined {
  const raw = (env[name] ?? '').trim();
  if (raw === '') return undefined;
  return raw.split(',').map((entry) => {
    const match = /^(?:\[([\da-fA-F:.]+)\]|([\w.-]+)):(\d{1,5})$/.exec(entry.trim());
    const port = Number(match?.[3]);
    if (!match || port < 1 || port > 65_535)
      throw invalid(name, `must be host:port entries separated by commas, got "${entry.trim()}"`);
    return { host: match[1] ?? match[2], port };
  });
}

export const bool = (env: Env, name: string, fallback: boolean): boolean =>
  shared(() => parseBoolSetting(name, env[name], fallback));

export function trustProxy(env: Env, name: string): TrustProxy {
  const raw = (env[name] ?? '').trim();
  if (raw === '' || switchWord(raw) === false) return { kind: 'none' };
  if (switchWord(raw) === true && !/^\d+$/.test(raw))
    throw invalid(
      name,
      'cannot be "true": trusting every hop lets any client choose its address; give the number of proxies in front of the node, or their addresses',
    );
  if (/^\d+$/.test(raw)) return { kind: 'hops', hops: int(env, name, 0, 1, 32) };
  const addresses = raw
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  for (const address of addresses) {
    const ok =
      ['loopback', 'linklocal', 'uniquelocal'].includes(address) ||
      /^[\d.:a-fA-F]+(\/\d{1,3})?$/.test(address);
    if (!ok)
      throw invalid(
        name,
        `has "${address}", which is not an IP address, a CIDR range or loopback/linklocal/uniquelocal`,
      );
  }
  return { kind: 'addresses', addresses };
}

export function adminToken(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  // A short token is guessable by anyone who can reach the node.
  if (raw.length < 16) throw invalid(name, 'must be at least 16 characters long');
  return raw;
}

export const oneOf = <T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T =>
  shared(() => parseChoiceSetting(name, env[name], values, fallback));
