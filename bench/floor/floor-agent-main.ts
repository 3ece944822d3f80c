/**
 * The agent half of the minimal WebSocket tunnel (see `floor-relay-main.ts`): a FLOOR reference
 * for the benchmark, not part of the product. No auth, no reconnect, no validation, no timeouts.
 *
 *   node dist/bench/floor/floor-agent-main.js --relay ws://127.0.0.1:PORT/agent/burst --upstream http://127.0.0.1:P/v1
 *
 * For each frame {"id":n,"body":"…"} it POSTs the body to <upstream>/chat/completions (keep-alive
 * Agent) and sends every raw body chunk back as it arrives, {"id":n,"d":"<chunk>"}, then
 * {"id":n,"end":true}. Prints {"connected":"<relay url>"} once the socket is open; exits when it
 * closes.
 */
import * as http from 'node:http';
import { WebSocket } from 'ws';

function flag(argv: string[], name: string): string {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}`) return argv[i + 1] ?? '';
    if (argv[i].startsWith(`--${name}=`)) return argv[i].slice(name.length + 3);
  }
  throw new Error(`--${name} is required`);
}

function main(): void {
  const argv = process.argv.slice(2);
  const relay = flag(argv, 'relay');
  const upstream = new URL(flag(argv, 'upstream'));
  const chatPath = `${upstream.pathname.replace(/\/+$/, '')}/chat/completions`;
  const agent = new http.Agent({ keepAlive: true, scheduling: 'lifo' });
  const ws = new WebSocket(relay, { perMessageDeflate: false });

  ws.on('message', (data: Buffer) => {
    const { id, body } = JSON.parse(data.toString()) as { id: number; body: string };
    const end = () => ws.send(JSON.stringify({ id, end: true }));
    const req = http.request(
      {
        agent,
        method: 'POST',
        hostname: upstream.hostname,
        port: upstream.port,
        path: chatPath,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.setEncoding('utf8');
        res.on('data', (d: string) => ws.send(JSON.stringify({ id, d })));
        res.on('end', end);
        res.on('error', end);
      },
    );
    req.on('error', end);
    req.end(body);
  });
  ws.on('open', () => process.stdout.write(`${JSON.stringify({ connected: relay })}\n`));
  ws.on('close', () => process.exit(0));
  ws.on('error', (err) => {
    process.stderr.write(`floor agent: ${err.message}\n`);
    process.exit(1);
  });
  const stop = () => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

try {
  main();
} catch (err) {
  process.stderr.write(`floor agent: ${(err as Error).message}\n`);
  process.exit(2);
}
