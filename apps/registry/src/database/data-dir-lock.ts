import { closeSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';

/**
 * One process per PGlite data directory: PGlite has no lock of its own, and two processes writing
 * one directory lose data silently. Like PostgreSQL's postmaster.pid, a file inside the directory
 * names the holder; a holder that died without removing it (kill -9, power loss) is detected by its
 * pid and the lock taken over.
 */
export const LOCK_FILE = 'registry.lock';

/** What the lock file holds. */
export interface LockHolder {
  pid: number;
  hostname: string;
  /** The HTTP port the holder was configured with (absent or 0 when unknown). */
  port?: number;
  startedAt: string;
}

export interface DataDirLock {
  readonly file: string;
  /** Removes the lock file if it is still ours; idempotent. */
  release(): void;
}

/** Lock files held by this process: a second open of the same directory here is refused too. */
const heldHere = new Set<string>();

/**
 * Takes the lock of `dir` (which must exist) or throws an error naming the holder and what to do.
 * `log` hears about a stale lock taken over.
 */
export function lockDataDir(
  dir: string,
  options: { port?: number; log?: (msg: string) => void } = {},
): DataDirLock {
  const file = path.join(dir, LOCK_FILE);
  const me: LockHolder = {
    pid: process.pid,
    hostname: hostname(),
    ...(options.port ? { port: options.port } : {}),
    startedAt: new Date().toISOString(),
  };
  // Two rounds: the second follows the removal of a stale lock.
  for (let round = 0; round < 2; round++) {
    if (createExclusive(file, `${JSON.stringify(me)}\n`)) return held(file);
    const holder = readHolder(file);
    if (holder === 'gone') continue;
    if (heldHere.has(file)) throw new Error(`${inUse(dir, file)} it is already open in this process.`);
    if (holder === 'unreadable') throw new Error(lockedMessage(dir, file, holder, undefined));
    const alive = isAlive(holder);
    if (alive !== false) throw new Error(lockedMessage(dir, file, holder, alive));
    options.log?.(
      `taking over the lock of ${dir}: its holder (${describe(holder)}) is no longer running ` +
        `(it stopped without releasing ${file})`,
    );
    removeIfUnchanged(file, holder);
  }
  throw new Error(`${inUse(dir, file)} another process took the lock while a stale one was being replaced.`);
}

function held(file: string): DataDirLock {
  heldHere.add(file);
  const release = () => {
    if (!heldHere.delete(file)) return;
    process.removeListener('exit', release);
    const holder = readHolder(file);
    if (holder !== 'gone' && holder !== 'unreadable' && holder.pid === process.pid) unlinkQuietly(file);
  };
  // Also on process.exit() with the database still open (a second Ctrl-C, a failed boot).
  process.on('exit', release);
  return { file, release };
}

/**
 * Writes `content` to `file` only if it does not exist. Written to a private file first and then
 * hard-linked into place, so the lock is never seen half written.
 */
function createExclusive(file: string, content: string): boolean {
  const temp = `${file}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w');
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new Error(`cannot create the lock file ${file}: ${(error as Error).message}`, { cause: error });
  } finally {
    unlinkQuietly(temp);
  }
}

function readHolder(file: string): LockHolder | 'gone' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : 'unreadable';
  }
  try {
    const holder = JSON.parse(text) as Partial<LockHolder>;
    if (Number.isInteger(holder.pid) && typeof holder.hostname === 'string') return holder as LockHolder;
  } catch {
    /* not ours: unreadable */
  }
  return 'unreadable';
}

/** True or false on this host; undefined when the holder is on another host (cannot tell). */
function isAlive(holder: LockHolder): boolean | undefined {
  if (holder.hostname !== hostname()) return undefined;
  // Our own pid, not held here: a previous process that had the same pid (pid 1 in a container).
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes a stale lock unless another process replaced it meanwhile. */
function removeIfUnchanged(file: string, stale: LockHolder): void {
  const now = readHolder(file);
  if (now !== 'gone' && now !== 'unreadable' && now.pid === stale.pid && now.startedAt === stale.startedAt)
    unlinkQuietly(file);
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    /* already gone */
  }
}

const describe = (holder: LockHolder) =>
  `pid ${holder.pid} on ${holder.hostname}${holder.port ? `, port ${holder.port}` : ''}, since ${holder.startedAt}`;

const inUse = (dir: string, file: string) => `the PGlite data directory ${dir} is locked by ${file}:`;

function lockedMessage(
  dir: string,
  file: string,
  holder: LockHolder | 'unreadable',
  alive: boolean | undefined,
): string {
  let who: string;
  let otherwise: string;
  if (holder === 'unreadable') {
    who = `its lock file ${file} cannot be read`;
    otherwise = `If no registry process uses the directory, delete ${file}.`;
  } else {
    who = `it is in use by another registry process (${describe(holder)})`;
    otherwise =
      alive === undefined
        ? `That host cannot be checked from here: if no registry runs there any more, delete ${file}.`
        : `If pid ${holder.pid} is not a registry (a pid reused after a reboot), delete ${file}.`;
  }
  return (
    `the PGlite data directory ${dir} cannot be opened: ${who}. Two processes on one data directory ` +
    `lose data. Stop the other process, or give this one another REGISTRY_DATA_DIR; to run several ` +
    `nodes on one database, use PostgreSQL (DATABASE_URL) and Redis (REDIS_URL). ${otherwise}`
  );
}
