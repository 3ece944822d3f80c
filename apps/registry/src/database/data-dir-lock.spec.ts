import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { LOCK_FILE, lockDataDir } from './data-dir-lock';

describe('lockDataDir', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'mreg-lockdir-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const lockFile = () => path.join(dir, LOCK_FILE);
  const writeHolder = (holder: object) => writeFileSync(lockFile(), JSON.stringify(holder));

  it('writes the holder, refuses a second open in the same process, and removes the file on release', () => {
    const lock = lockDataDir(dir, { port: 3000 });
    expect(JSON.parse(readFileSync(lockFile(), 'utf8'))).toMatchObject({
      pid: process.pid,
      hostname: hostname(),
      port: 3000,
    });
    expect(() => lockDataDir(dir)).toThrow('already open in this process');
    lock.release();
    lock.release();
    expect(existsSync(lockFile())).toBe(false);
    lockDataDir(dir).release();
  });

  it('refuses a lock held by a live process on this host, naming it', () => {
    // The parent of this test process is alive and is not us.
    writeHolder({ pid: process.ppid, hostname: hostname(), port: 4000, startedAt: 'then' });
    expect(() => lockDataDir(dir)).toThrow(
      `cannot be opened: it is in use by another registry process (pid ${process.ppid} on ${hostname()}, port 4000, since then)`,
    );
    expect(JSON.parse(readFileSync(lockFile(), 'utf8')).pid).toBe(process.ppid);
  });

  it('refuses a lock from another host, and says to delete it once nothing runs there', () => {
    writeHolder({ pid: 1, hostname: 'elsewhere.example', startedAt: 'then' });
    expect(() => lockDataDir(dir)).toThrow(`if no registry runs there any more, delete ${lockFile()}`);
  });

  it('takes over a lock with our own pid that this process does not hold (a restarted container)', () => {
    writeHolder({ pid: process.pid, hostname: hostname(), startedAt: 'before the restart' });
    const log: string[] = [];
    const lock = lockDataDir(dir, { log: (m) => log.push(m) });
    expect(log).toEqual([expect.stringContaining('is no longer running')]);
    expect(JSON.parse(readFileSync(lockFile(), 'utf8')).startedAt).not.toBe('before the restart');
    lock.release();
  });

  it('refuses an unreadable lock file, saying to delete it', () => {
    writeFileSync(lockFile(), 'not json');
    expect(() => lockDataDir(dir)).toThrow(`its lock file ${lockFile()} cannot be read`);
  });
});
