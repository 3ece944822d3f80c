/** CPU-profiles a set of probed processes over one measured window (only with --profile). */
import * as path from 'node:path';
import { summarizeProfile, ProfileSummary } from './profile';
import type { ProbedProcess } from './registry-node';

export interface ProcessProfile {
  /** What was running, e.g. "64 streams, embedded node". */
  during: string;
  process: string;
  file: string;
  summary: ProfileSummary;
}

export async function profiled<T>(
  processes: ProbedProcess[],
  outDir: string,
  fileTag: string,
  during: string,
  run: () => Promise<T>,
): Promise<{ value: T; profiles: ProcessProfile[] }> {
  for (const p of processes) await p.probe('profile-start', { interval: 250 });
  // Stopped even when the run fails, so no profiler keeps running in a node.
  const outcome = await run().then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  const stops = await Promise.allSettled(
    processes.map(async (p): Promise<ProcessProfile> => {
      const file = path.join(outDir, `${fileTag}-${p.name}.cpuprofile`);
      await p.probe('profile-stop', { file });
      return { during, process: p.name, file, summary: summarizeProfile(file) };
    }),
  );
  if (!outcome.ok) throw outcome.error;
  const profiles: ProcessProfile[] = [];
  for (const s of stops) if (s.status === 'fulfilled') profiles.push(s.value);
  return { value: outcome.value, profiles };
}
