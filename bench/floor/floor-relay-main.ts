/**
 * FLOOR reference paths for the benchmark, not part of the product: what a relay of the simplest
 * possible shape costs on this machine, measured by the same client in the same run as the real
 * relay. Deliberately minimal: no auth, no validation, no timeouts, no back-pressure, no error
 * handling worth the name. A relay that does its job can only be slower than these.
 *
 *   node dist/bench/floor/floor-relay-main.js --mode proxy --upstream burst=http://127.0.0.1:P/v1,paced=…
 *   node dist/bench/floor/floor-relay-main.js --mode tunnel
 *
 * `proxy` (plain reverse proxy): POST /<name>/chat/completions is forwarded with http.request
 * (keep-alive Agent) to that upstream's /chat/completions; status, content type and body are piped
 * back. One hop more than calling the model directly, no WebSocket, no parsing.
 *
 * `tunnel` (minimal WebSocket tunnel): agents (`floor-agent-main.ts`) dial ws://…/agent/<name>;
 * POST /<name>/chat/completions becomes the text frame {"id":n,"body":"<the caller's body>"} on
 * that agent's socket; each frame back, {"id":n,"d":"<raw chunk>"} or {"id":n,"end":true}, is
 * JSON.parsed and written to the caller's response as is (SSE headers, no parsing of SSE lines).
 *
 * Prints one JSON line {"url":"http://127.0.0.1:PORT","port":PORT} when listening, like the fake
 * model; SIGTERM / SIGINT end it.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

function flags(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`unexpected argument ${argv[i]}`);
    out.set(m[1], m[2] ?? argv[++i] ?? '');
  }
  return out;
}

const CHAT = /^\/([^/]+)\/chat\/completions$/;

/** The plain reverse proxy: routes name → upstream base URL (ending in /v1). */
function proxy(upstreams: Map<string, URL>): http.Server {
  const agent = new http.Agent({ keepAlive: true, scheduling: 'lifo' });
  return http.createServer((req, res) => {
    const upstream = upstreams.get(CHAT.exec(req.url ?? '')?.[1] ?? '');
    if (req.method !== 'POST' || !upstream) {
      res.writeHead(404).end();
      return;
    }
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json' };
    if (req.headers['content-length']) headers['content-length'] = req.headers['content-length'];
    const out = http.request(
      {
        agent,
        method: 'POST',
        hostname: upstream.hostname,
        port: upstream.port,
        path: `${upstream.pathname.replace(/\/+$/, '')}/chat/completions`,
        headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, { 'content-type': up.headers['content-type'] ?? 'text/plain' });
        up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
}

/** The minimal WebSocket tunnel: one agent socket per name, integer request ids. */
function tunnel(): http.Server {
  const agents = new Map<string, WebSocket>();
  const pending = new Map<number, http.ServerResponse>();
  let nextId = 0;
  const server = http.createServer((req, res) => {
    const ws = agents.get(CHAT.exec(req.url ?? '')?.[1] ?? '');
    if (req.method !== 'POST' || !ws) {
      res.writeHead(ws ? 404 : 503).end();
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const id = ++nextId;
      pending.set(id, res);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      ws.send(JSON.stringify({ id, body }));
    });
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on('upgrade', (req, socket, head) => {
    const name = /^\/agent\/([^/]+)$/.exec(req.url ?? '')?.[1];
    if (!name) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      agents.set(name, ws);
      ws.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString()) as { id: number; d?: string; end?: boolean };
        const res = pending.get(frame.id);
        if (!res) return;
        if (frame.d !== undefined) res.write(frame.d);
        if (frame.end) {
          pending.delete(frame.id);
          res.end();
        }
      });
      ws.on('close', () => {
        if (agents.get(name) === ws) agents.delete(name);
      });
    });
  });
  return server;
}

function main(): void {
  const f = flags(process.argv.slice(2));
  const mode = f.get('mode');
  let server: http.Server;
  if (mode === 'proxy') {
    const upstreams = new Map<string, URL>();
    for (const pair of (f.get('upstream') ?? '').split(',').filter(Boolean)) {
      const eq = pair.indexOf('=');
      upstreams.set(pair.slice(0, eq), new URL(pair.slice(eq + 1)));
    }
    if (upstreams.size === 0) throw new Error('--upstream name=url[,name=url…] is required');
    server = proxy(upstreams);
  } else if (mode === 'tunnel') server = tunnel();
  else throw new Error('--mode proxy|tunnel is required');
  server.keepAliveTimeout = 60_000;
  server.listen(Number(f.get('port') ?? 0), '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, port })}\n`);
  });
  const stop = () => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

try {
  main();
} catch (err) {
  process.stderr.write(`floor relay: ${(err as Error).message}\n`);
  process.exit(2);
}
