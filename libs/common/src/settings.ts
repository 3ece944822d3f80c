import { ConfigError } from './config-error';

/**
 * How both apps read a setting's text (an environment variable, or the agent's flag), so a value
 * means the same to the registry and to the agent. Errors name the setting and say what it takes.
 */

const YES = ['1', 'true', 'yes'];
const NO = ['0', 'false', 'no'];

/** true for 1/true/yes, false for 0/false/no (any case, spaces ignored), undefined for anything else. */
export function switchWord(raw: string): boolean | undefined {
  const word = raw.trim().toLowerCase();
  if (YES.includes(word)) return true;
  if (NO.includes(word)) return false;
  return undefined;
}

/** A yes/no setting; absent or blank = `fallback`. */
export function parseBoolSetting(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = switchWord(raw);
  if (value === undefined)
    throw new ConfigError(`${name} must be true or false (also 1/0, yes/no), got "${raw}"`);
  return value;
}

/** A whole number within min..max; absent or blank = `fallback`. */
export function parseIntSetting(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  const text = raw?.trim() ?? '';
  if (text === '') return fallback;
  if (!/^-?\d+$/.test(text)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const value = Number(text);
  if (value < min || value > max)
    throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** One of a fixed set of words (exact); absent or blank = `fallback`. */
export function parseChoiceSetting<T extends string>(
  name: string,
  raw: string | undefined,
  values: readonly T[],
  fallback: T,
): T {
  const text = raw?.trim() ?? '';
  if (text === '') return fallback;
  if (!values.includes(text as T))
    throw new ConfigError(`${name} must be one of ${values.join(', ')}, got "${raw}"`);
  return text as T;
}
