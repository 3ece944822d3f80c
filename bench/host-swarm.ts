/**
 * Idle hosts, many of them: a child process the benchmark drives over IPC. Each host opens the
 * host WebSocket (`Authorization: Bearer id:pw`), says hello, answers pings (ws does) and sends a
 * heartbeat every HEARTBEAT_MS (default 30 s, spread evenly over that period). Nothing else.
 *
 *   {cmd: 'connect', registry, hosts: [{id, password}], parallel, timeoutMs}
 *     → {event: 'connected', opened, failed, errors, ms}
 *   {cmd: 'ready'} → {event: 'ready', fdLimit}
 *   {cmd: 'stats'} → {event: 'stats', open, unexpectedCloses, heartbeats, acks}
 *   {cmd: 'close'} → closes every socket, answers {event: 'closed'} and exits
 */
import WebSocket from 'ws';
import { fdLimits } from './proc';

interface Host {
  id: string;
  password: string;
}

type Command =
  | { cmd: 'connect'; registry: string; hosts: Host[]; parallel: number; timeoutMs: number }
  | { cmd: 'ready' }
  | { cmd: 'stats' }
  | { cmd: 'close' };

const HEARTBEAT_MS = Number(process.env.SWARM_HEARTBEAT_MS ?? 30_000);
const TICK_MS = 250;
const HELLO = JSON.stringify({
  type: 'hello',
  agent: 'bench-host-swarm',
  capabilities: { concurrency: 1, cancel: true, models: [] },
});

const sockets: WebSocket[] = [];
const counters = { unexpectedCloses: 0, heartbeats: 0, acks: 0 };
let closing = false;
let cursor = 0;

/** One timer for all heartbeats: each tick serves the next slice, so every host beats once per period. */
const heartbeatTimer = setInterval(() => {
  const perTick = Math.ceil((sockets.length * TICK_MS) / HEARTBEAT_MS);
  for (let i = 0; i < perTick && sockets.length > 0; i++) {
    const ws = sockets[cursor++ % sockets.length];
    if (ws.readyState !== WebSocket.OPEN) continue;
    ws.send(JSON.stringify({ type: 'heartbeat', data: { status: 'idle', at: Date.now() }, version: '1.0' }));
    counters.heartbeats++;
  }
}, TICK_MS);

function connectOne(wsBase: string, host: Host, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${wsBase}/api/ws/${host.id}`, {
      headers: { authorization: `Bearer ${host.id}:${host.password}` },
      perMessageDeflate: false,
      handshakeTimeout: timeoutMs,
    });
    let opened = false;
    ws.on('open', () => {
      opened = true;
      ws.send(HELLO);
      sockets.push(ws);
      resolve(null);
    });
    ws.on('unexpected-response', (req, res) => {
      resolve(`HTTP ${res.statusCode}`);
      req.destroy();
    });
    ws.on('error', (err) => {
      if (!opened) resolve(err.message);
    });
    ws.on('message', (data) => {
      if (data.toString().includes('"heartbeat_ack"')) counters.acks++;
    });
    ws.on('close', () => {
      if (opened && !closing) counters.unexpectedCloses++;
    });
  });
}

async function connectAll(cmd: Extract<Command, { cmd: 'connect' }>) {
  const started = performance.now();
  const wsBase = cmd.registry.replace(/^http/, 'ws');
  const errors = new Map<string, number>();
  let next = 0;
  let opened = 0;
  const worker = async () => {
    while (next < cmd.hosts.length && !closing) {
      const error = await connectOne(wsBase, cmd.hosts[next++], cmd.timeoutMs);
      if (error === null) opened++;
      else errors.set(error, (errors.get(error) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, cmd.parallel) }, worker));
  return {
    event: 'connected',
    opened,
    failed: cmd.hosts.length - opened,
    errors: Object.fromEntries(errors),
    ms: performance.now() - started,
  };
}

async function closeAll(): Promise<void> {
  closing = true;
  clearInterval(heartbeatTimer);
  const waits = sockets.map(
    (ws) =>
      new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once('close', () => resolve());
        ws.close(1000, 'benchmark done');
      }),
  );
  await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 10_000))]);
  for (const ws of sockets) ws.terminate();
}

process.on('message', (cmd: Command) => {
  const reply = (msg: object) => process.send?.(msg);
  switch (cmd.cmd) {
    case 'connect':
      void connectAll(cmd).then(reply);
      return;
    case 'ready':
      reply({ event: 'ready', fdLimit: fdLimits().soft });
      return;
    case 'stats':
      reply({
        event: 'stats',
        open: sockets.filter((ws) => ws.readyState === WebSocket.OPEN).length,
        ...counters,
      });
      return;
    case 'close':
      void closeAll().then(() => {
        reply({ event: 'closed' });
        process.disconnect?.();
        process.exit(0);
      });
      return;
  }
});
// Orphaned (the benchmark died): leave too.
process.on('disconnect', () => process.exit(0));
