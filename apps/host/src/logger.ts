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
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
  now?: () => Date;
}

/** Prints `2025-01-31T12:00:00.000Z message`; warnings and errors go to stderr. */
export function createConsoleLogger(options: ConsoleLoggerOptions = {}): Logger {
  const min = rank[options.level ?? 'info'];
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  const now = options.now ?? (() => new Date());
  const write = (level: LogLevel, stream: NodeJS.WritableStream, message: string) => {
    if (rank[level] < min) return;
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
