/**
 * Preloaded into the registry nodes the benchmark starts (`node --require dist/bench/probe.js
 * dist/apps/registry/src/main.js`), to look inside without touching the registry's code. It
 * answers over the IPC channel the benchmark opens, and does nothing without one:
 *
 *   {probe: id, op: 'memory'}                → process.memoryUsage() after two full GCs
 *   {probe: id, op: 'profile-start', interval} → starts the V8 CPU profiler (interval in µs)
 *   {probe: id, op: 'profile-stop', file}    → stops it and writes a .cpuprofile to `file`
 *   {probe: id, op: 'heap-snapshot', file}   → writes a .heapsnapshot to `file` (after two full GCs)
 *
 * Every answer is {probe: id, ok, ...}.
 *
 * With BENCH_PROBE_SLOW_WRITE_US set (only ever by `BENCH_INJECT_SLOW_WRITE_US=… npm run
 * bench:gate`, to show the CI gate failing), every HTTP response write of the node first spins
 * for that many µs: an injected per-chunk regression, in the benchmark's code, not the registry's.
 */
import { writeFileSync } from 'node:fs';
import { ServerResponse } from 'node:http';
import { Session } from 'node:inspector';
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';

interface ProbeRequest {
  probe: number;
  op: 'memory' | 'profile-start' | 'profile-stop' | 'heap-snapshot';
  interval?: number;
  file?: string;
}

const slowWriteUs = Number(process.env.BENCH_PROBE_SLOW_WRITE_US ?? 0);
if (slowWriteUs > 0) {
  const write = ServerResponse.prototype.write;
  ServerResponse.prototype.write = function (this: ServerResponse, ...args: unknown[]) {
    const until = performance.now() + slowWriteUs / 1000;
    while (performance.now() < until);
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof write;
}

if (process.send) {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  setFlagsFromString('--no-expose-gc');
  let session: Session | null = null;
  const post = <T>(method: string, params?: object) =>
    new Promise<T>((resolve, reject) =>
      session!.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result as T))),
    );

  const handle = async (req: ProbeRequest): Promise<Record<string, unknown>> => {
    switch (req.op) {
      case 'memory':
        gc();
        gc();
        return { ...process.memoryUsage() };
      case 'profile-start':
        session = new Session();
        session.connect();
        await post('Profiler.enable');
        await post('Profiler.setSamplingInterval', { interval: req.interval ?? 200 });
        await post('Profiler.start');
        return {};
      case 'profile-stop': {
        if (!session) throw new Error('no profile running');
        const { profile } = await post<{ profile: unknown }>('Profiler.stop');
        session.disconnect();
        session = null;
        writeFileSync(req.file!, JSON.stringify(profile));
        return { file: req.file };
      }
      case 'heap-snapshot':
        gc();
        gc();
        return { file: writeHeapSnapshot(req.file) };
    }
  };

  process.on('message', (msg: ProbeRequest) => {
    if (typeof msg !== 'object' || msg === null || typeof msg.probe !== 'number') return;
    handle(msg).then(
      (answer) => process.send!({ probe: msg.probe, ok: true, ...answer }),
      (err: Error) => process.send!({ probe: msg.probe, ok: false, error: err.message }),
    );
  });
  // The channel must not keep the registry alive on its own.
  process.channel?.unref();
}
