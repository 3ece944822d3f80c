import { cpSync, existsSync, mkdtempSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DIST, RunningRegistry, spawnNode, startRegistry, TestProcess } from '../support/processes';
import { registerInstance } from '../support/registry-client';

/** A registry process on `dataDir` that is expected to refuse to start: its exit code and output. */
async function refusedStart(dataDir: string): Promise<{ code: number | null; output: string }> {
  const proc: TestProcess = spawnNode('refused', DIST.registry, [], {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    REGISTRY_ANNOUNCE_PORT: '1',
    REGISTRY_DATA_DIR: dataDir,
  });
  // A process that starts anyway (the bug) is stopped, so the test fails instead of hanging.
  const listening = proc.waitFor(/"event":"listening"/, 60_000).then(
    () => proc.stop('SIGKILL'),
    () => undefined,
  );
  const code = await proc.exited;
  await listening;
  return { code, output: proc.output.join('\n') };
}

const count = async (node: RunningRegistry) =>
  ((await (await fetch(`${node.url}/api/upload/count`)).json()) as { data: { count: number } }).data.count;

describe('one process per embedded (PGlite) data directory', () => {
  let tmp: string;
  let dataDir: string;
  const started: RunningRegistry[] = [];

  beforeAll(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'mreg-lock-'));
    dataDir = path.join(tmp, 'data');
  });

  afterAll(async () => {
    await Promise.all(started.map((node) => node.proc.stop('SIGKILL')));
    rmSync(tmp, { recursive: true, force: true });
  });

  it('refuses a second process naming the directory and the holder; takes over after the holder is killed', async () => {
    const first = await startRegistry({ REGISTRY_DATA_DIR: dataDir }, 'first');
    started.push(first);
    await registerInstance(first.url);

    const second = await refusedStart(dataDir);
    expect(second.code).not.toBe(0);
    expect(second.output).toContain(`the PGlite data directory ${dataDir} cannot be opened`);
    expect(second.output).toContain(`pid ${first.proc.pid}`);
    expect(second.output).toContain('another REGISTRY_DATA_DIR');
    expect(second.output).toContain('DATABASE_URL');
    // The first one is untouched and still serves its data.
    expect(await count(first)).toBe(1);

    // kill -9 leaves its lock behind: the next process sees that its holder is gone.
    await first.proc.stop('SIGKILL');
    const third = await startRegistry({ REGISTRY_DATA_DIR: dataDir }, 'third');
    started.push(third);
    expect(third.proc.output.join('\n')).toContain(`its holder (pid ${first.proc.pid}`);
    expect(await count(third)).toBe(1);
    // A clean stop releases the lock.
    await third.proc.stop('SIGTERM');
    expect(third.proc.child.exitCode).toBe(0);
    expect(existsSync(path.join(dataDir, 'registry.lock'))).toBe(false);
  });

  it('says what to do with a data directory PGlite cannot open, instead of "Aborted()"', async () => {
    const damaged = path.join(tmp, 'damaged');
    cpSync(dataDir, damaged, { recursive: true });
    truncateSync(path.join(damaged, 'global', 'pg_control'), 0);
    const result = await refusedStart(damaged);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain(
      `registry failed to start: the PGlite data directory ${damaged} cannot be opened`,
    );
    expect(result.output).toContain('Restore it from a backup, or move it aside');
    // The failed attempt leaves no lock behind.
    expect(existsSync(path.join(damaged, 'registry.lock'))).toBe(false);
  });
});
