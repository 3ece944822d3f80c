import { ConsoleLogger, LogLevel } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';

const LEVELS: Record<AppConfig['logLevel'], LogLevel[]> = {
  debug: ['debug', 'log', 'warn', 'error', 'fatal'],
  info: ['log', 'warn', 'error', 'fatal'],
  warn: ['warn', 'error', 'fatal'],
  error: ['error', 'fatal'],
  silent: [],
};

const SECRETS: Array<[RegExp, string]> = [
  [/([?&]password=)[^&\s"']+/gi, '$1[redacted]'],
  [/(Bearer\s+[^:\s"']+:)[^\s"']+/gi, '$1[redacted]'],
  [/("(?:instance_)?password"\s*:\s*")[^"]*"/gi, '$1[redacted]"'],
];

/** Removes anything that looks like a secret from a log message (defence in depth: we never log URLs). */
export function redact<T>(message: T): T {
  if (typeof message === 'string') {
    let text: string = message;
    for (const [pattern, replacement] of SECRETS) text = text.replace(pattern, replacement);
    return text as T;
  }
  if (message && typeof message === 'object' && !(message instanceof Error))
    return JSON.parse(redact(JSON.stringify(message))) as T;
  return message;
}

/** Nest's console logger (text for people, or one JSON object per line), with secrets redacted. */
export class AppLogger extends ConsoleLogger {
  constructor(config: Pick<AppConfig, 'logLevel' | 'logFormat'>) {
    super({
      logLevels: LEVELS[config.logLevel],
      json: config.logFormat === 'json',
      colors: config.logFormat === 'text' && process.stdout.isTTY,
    });
  }

  override log(message: unknown, ...rest: unknown[]): void {
    if (!this.isLevelEnabled('log')) return; // no redaction work for a line nobody sees
    super.log(redact(message), ...rest);
  }

  override warn(message: unknown, ...rest: unknown[]): void {
    if (!this.isLevelEnabled('warn')) return; // no redaction work for a line nobody sees
    super.warn(redact(message), ...rest);
  }

  override error(message: unknown, ...rest: unknown[]): void {
    if (!this.isLevelEnabled('error')) return; // no redaction work for a line nobody sees
    super.error(redact(message), ...rest.map(redact));
  }

  override debug(message: unknown, ...rest: unknown[]): void {
    if (!this.isLevelEnabled('debug')) return; // no redaction work for a line nobody sees
    super.debug(redact(message), ...rest);
  }
}
