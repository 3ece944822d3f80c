/**
 * Logs for a person watching the agent: one line per event, with a timestamp.
 * Nothing here ever receives the instance password; callers must keep it out of messages.
 */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
  /** False when debug lines are dropped: hot paths check it before building a message. */
  readonly debugEnabled: boolean;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const rank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface ConsoleLoggerOptions {
  /** Lowest level printed (default info). */
  level?: LogLevel;
  /** `text` (default) for people, `json` for log pipelines. */
  format?: 'text' | 'json';
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
  now?: () => Date;
}

/** The registry's JSON lines (Nest's ConsoleLogger) call info `log`; one pipeline reads both. */
const jsonLevel: Record<LogLevel, string> = { debug: 'debug', info: 'log', warn: 'warn', error: 'error' };

/**
 * Prints `2025-01-31T12:00:00.000Z message`, or with `format: 'json'` one object per line with the
 * registry's fields (`level`, `pid`, `timestamp` in ms, `message`, `context`); warnings and errors
 * go to stderr.
 */
export function createConsoleLogger(options: ConsoleLoggerOptions = {}): Logger {
  const min = rank[options.level ?? 'info'];
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  const now = options.now ?? (() => new Date());
  const json = options.format === 'json';
  const write = (level: LogLevel, stream: NodeJS.WritableStream, message: string) => {
    if (rank[level] < min) return;
    if (json) {
      const line = {
        level: jsonLevel[level],
        pid: process.pid,
        timestamp: now().getTime(),
        message,
        context: 'agent',
      };
      stream.write(`${JSON.stringify(line)}\n`);
      return;
    }
    const tag = level === 'info' ? '' : `${level}: `;
    stream.write(`${now().toISOString()} ${tag}${message}\n`);
  };
  return {
    debugEnabled: min <= rank.debug,
    debug: (m) => write('debug', out, m),
    info: (m) => write('info', out, m),
    warn: (m) => write('warn', err, m),
    error: (m) => write('error', err, m),
  };
}

export interface MemoryLogger extends Logger {
  readonly lines: Array<{ level: LogLevel; message: string }>;
  /** All messages joined, for `toContain` checks. */
  text(): string;
}

/** Keeps every line in memory (tests). */
export function createMemoryLogger(): MemoryLogger {
  const lines: Array<{ level: LogLevel; message: string }> = [];
  const push = (level: LogLevel) => (message: string) => void lines.push({ level, message });
  return {
    lines,
    text: () => lines.map((l) => `${l.level}: ${l.message}`).join('\n'),
    debugEnabled: true,
    debug: push('debug'),
    info: push('info'),
    warn: push('warn'),
    error: push('error'),
  };
}

export const silentLogger: Logger = { debugEnabled: false, debug() {}, info() {}, warn() {}, error() {} };
