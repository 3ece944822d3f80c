/**
 * Runs the fake model server as its own process (e2e tests, benchmarks):
 *
 *   node dist/test/support/fake-model-main.js --port 0 --chunks 50 --delay-ms 0 [--max-concurrent 1]
 *
 * Prints one JSON line {"url":"http://127.0.0.1:PORT/v1","port":PORT} when ready; stops on
 * SIGTERM / SIGINT. Options also from env: FAKE_MODEL_PORT, FAKE_MODEL_HOST, FAKE_MODEL_CHUNKS,
 * FAKE_MODEL_DELAY_MS, FAKE_MODEL_MODELS (comma-separated), FAKE_MODEL_FAIL_WITH, FAKE_MODEL_RECORD=1,
 * FAKE_MODEL_MAX_CONCURRENT (chats answered at once; the others wait in arrival order).
 */
import { startFakeModel } from './fake-model-server';

function options(argv: string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  const fromEnv: Record<string, string> = {
    port: 'FAKE_MODEL_PORT',
    host: 'FAKE_MODEL_HOST',
    chunks: 'FAKE_MODEL_CHUNKS',
    'delay-ms': 'FAKE_MODEL_DELAY_MS',
    models: 'FAKE_MODEL_MODELS',
    'fail-with': 'FAKE_MODEL_FAIL_WITH',
    record: 'FAKE_MODEL_RECORD',
    'max-concurrent': 'FAKE_MODEL_MAX_CONCURRENT',
  };
  for (const [name, key] of Object.entries(fromEnv)) if (env[key]) out[name] = env[key] as string;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    if (eq !== -1) out[arg.slice(2, eq)] = arg.slice(eq + 1);
    else if (arg === '--record') out.record = '1';
    else out[arg.slice(2)] = argv[++i] ?? '';
  }
  return out;
}

function int(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new Error(`--${name} must be a whole number`);
  return Number(value);
}

function positive(value: string | undefined, name: string): number | undefined {
  const n = int(value, name);
  if (n === 0) throw new Error(`--${name} must be at least 1`);
  return n;
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2), process.env);
  const server = await startFakeModel({
    port: int(o.port, 'port') ?? 0,
    host: o.host,
    chunks: int(o.chunks, 'chunks'),
    delayMs: int(o['delay-ms'], 'delay-ms'),
    failWith: int(o['fail-with'], 'fail-with'),
    models: o.models ? o.models.split(',').map((s) => s.trim()) : undefined,
    // A long benchmark would otherwise keep every request in memory.
    record: o.record === '1' || o.record === 'true',
    maxConcurrent: positive(o['max-concurrent'], 'max-concurrent'),
  });
  process.stdout.write(`${JSON.stringify({ url: server.url, port: server.port })}\n`);
  const stop = () => {
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`fake model: ${(err as Error).message}\n`);
  process.exit(2);
});
