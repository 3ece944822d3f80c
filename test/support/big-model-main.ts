/**
 * The fake model server answering with large chunks, as its own process (so that building and
 * writing megabytes does not stall the test process that measures):
 *
 *   node dist/test/support/big-model-main.js --chunks 2048 --chunk-bytes 4096 --delay-ms 0
 *
 * Prints one JSON line {"url":…,"port":…} when ready; stops on SIGTERM / SIGINT.
 */
import { startFakeModel } from './fake-model-server';

function arg(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number`);
  return value;
}

async function main(): Promise<void> {
  const chunkBytes = arg('chunk-bytes', 4096);
  const piece = 'x'.repeat(chunkBytes);
  const server = await startFakeModel({
    port: arg('port', 0),
    chunks: arg('chunks', 2048),
    delayMs: arg('delay-ms', 0),
    content: () => piece,
    record: false,
  });
  process.stdout.write(`${JSON.stringify({ url: server.url, port: server.port })}\n`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`big model: ${(error as Error).message}\n`);
  process.exit(2);
});
