import { readFileSync } from 'node:fs';
import { RawWsClient } from '../support/raw-ws-client';
import { RunningRegistry, startRegistry } from '../support/processes';
import { connectAndLeave, eventually, registerInstance, Registered } from '../support/registry-client';

const rssMb = (pid: number) =>
  Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

/** A stock host that connects and never answers a chat: every chat sent to it stays queued. */
const silentHost = (node: RunningRegistry, instance: Registered) =>
  RawWsClient.open(
    node.port,
    `/api/ws/${instance.instanceId}?password=${encodeURIComponent(instance.password)}`,
  );

/**
 * Issue #20 items 5–6: chats parked on a node (queued for a host, held for a replica) kept their
 * request bodies unbudgeted (1,000 chats of 1 MB from one address → +641 MB on the node), and a
 * chat to an instance that never had a host was held for CHAT_HOLD_MS like any other.
 */
describe('what parked chats may hold on a node', () => {
  let node: RunningRegistry;

  beforeAll(async () => {
    node = await startRegistry(
      { CHAT_MAX_REQUEST_BYTES_PER_IP: String(8 * 1024 * 1024), CHAT_HOLD_NODE_LIMIT: '2' },
      'parked',
    );
  });

  afterAll(async () => {
    await node?.proc.stop();
  });

  const activeChats = async () =>
    ((await (await fetch(`${node.url}/healthz`)).json()) as { active_chats: number }).active_chats;

  const chat = (instance: Registered, content: string, signal?: AbortSignal) =>
    fetch(`${node.url}/api/chat/${instance.instanceId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content }], stream: false }),
      signal,
    });

  it('counts the request bodies of chats in flight per address: past the budget, 429 with Retry-After', async () => {
    const instance = await registerInstance(node.url, 'never answers');
    const host = await silentHost(node, instance);
    const abort = new AbortController();
    const rssBefore = rssMb(node.proc.pid);
    const big = 'x'.repeat(900 * 1024);
    try {
      const answers = await Promise.all(
        Array.from({ length: 24 }, () =>
          Promise.race([
            chat(instance, big, abort.signal).then(async (res) => ({
              status: res.status,
              retryAfter: res.headers.get('retry-after'),
              message: ((await res.json()) as { error: { message: string } }).error.message,
            })),
            // Admitted chats stay queued at the silent host: they never answer.
            new Promise<null>((resolve) => setTimeout(() => resolve(null), 3_000)),
          ]),
        ),
      );
      const refused = answers.filter((a) => a !== null);
      // 8 MiB at 900 KiB a body: 9 are kept, the other 15 refused.
      expect(answers.filter((a) => a === null)).toHaveLength(9);
      expect(refused).toHaveLength(15);
      for (const answer of refused) {
        expect(answer).toMatchObject({ status: 429, retryAfter: '1' });
        expect(answer?.message).toContain('request bytes');
      }
      console.log(
        `24 chats of 900 KiB parked at a silent host: node RSS +${(rssMb(node.proc.pid) - rssBefore).toFixed(0)} MB`,
      );
    } finally {
      abort.abort();
      host.destroy();
    }
    // The callers left: their chats end and give their bytes back.
    await eventually(async () => (await activeChats()) === 0, 5_000);
  });

  it('answers a chat to an instance that never had a host with 503 at once: nothing to wait for', async () => {
    const instance = await registerInstance(node.url, 'never connected');
    const started = Date.now();
    const res = await chat(instance, 'hello?');
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('instance_offline');
    // c0123c2 held it for CHAT_HOLD_MS (10 s) first.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('holds chats of instances whose host just left, up to CHAT_HOLD_NODE_LIMIT on the node (then 503 node_busy)', async () => {
    const instances = await Promise.all([1, 2, 3].map((i) => registerInstance(node.url, `restarting ${i}`)));
    for (const instance of instances) await connectAndLeave(node, instance);
    const abort = new AbortController();
    try {
      const held = [chat(instances[0], 'a', abort.signal), chat(instances[1], 'b', abort.signal)];
      held.forEach((p) => void p.catch(() => undefined));
      await new Promise((resolve) => setTimeout(resolve, 500));
      const third = await chat(instances[2], 'c');
      expect(third.status).toBe(503);
      expect(((await third.json()) as { error: { code: string } }).error.code).toBe('node_busy');
    } finally {
      abort.abort();
    }
  });
});
