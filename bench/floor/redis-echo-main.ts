/**
 * FLOOR reference for the benchmark, not part of the product: the two Redis pub/sub hops of a
 * cross-node chat (node B publishes the request on node A's channel, node A publishes the replies
 * on node B's channel), with nothing else around them. No validation, no reconnect.
 *
 *   node dist/bench/floor/redis-echo-main.js --redis redis://127.0.0.1:6379 --prefix mreg-bench-…:floor
 *
 * Two connections, like a node: a subscriber on `<prefix>:ping` and a publisher that sends every
 * message received, as is (not parsed), to `<prefix>:pong`. Plain PUBLISH, no auto-pipelining.
 * Prints {"ready":"<prefix>:ping"} once subscribed; SIGTERM / SIGINT end it, so does a Redis error.
 */
import { Redis } from 'ioredis';

function flag(argv: string[], name: string): string {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1] ?? '';
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  throw new Error(`--${name} is required`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const url = flag(argv, 'redis');
  const prefix = flag(argv, 'prefix');
  const ping = `${prefix}:ping`;
  const pong = `${prefix}:pong`;
  const options = { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null };
  const subscriber = new Redis(url, { ...options, connectionName: 'bench-floor-echo:sub' });
  const publisher = new Redis(url, { ...options, connectionName: 'bench-floor-echo:pub' });
  for (const client of [subscriber, publisher]) {
    client.on('error', (err: Error) => {
      process.stderr.write(`floor redis echo: ${err.message}\n`);
      process.exit(1);
    });
    client.on('end', () => process.exit(1));
  }
  await Promise.all([subscriber.connect(), publisher.connect()]);
  subscriber.on('message', (_channel: string, message: string) => {
    // A lost PUBLISH shows as a timed-out round trip in the benchmark.
    publisher.publish(pong, message).catch(() => undefined);
  });
  await subscriber.subscribe(ping);
  process.stdout.write(`${JSON.stringify({ ready: ping })}\n`);
  const stop = () => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: Error) => {
  process.stderr.write(`floor redis echo: ${err.message}\n`);
  process.exit(2);
});
