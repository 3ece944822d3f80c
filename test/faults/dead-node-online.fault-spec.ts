import WebSocket from 'ws';
import { TestCluster } from '../support/cluster';
import { RunningRegistry } from '../support/processes';
import { eventually, instanceDetail, registerInstance, Registered } from '../support/registry-client';

/** Long enough that only a liveness check, never the record's expiry, can end the ghost online. */
const TTL_MS = 20_000;

/**
 * Issue #15: "online" had three derivations. After a SIGKILL of the node holding a host, detail
 * said `offline` at once while the list and count said `online` until the presence TTL ran out.
 */
describe('fault: the node holding a host is SIGKILLed; every view of "online" agrees', () => {
  let cluster: TestCluster;
  let nodeA: RunningRegistry;
  let nodeB: RunningRegistry;
  let ghost: Registered;
  let socket: WebSocket;

  const statusInList = async (): Promise<string | undefined> => {
    const res = await fetch(`${nodeB.url}/api/upload/list?page_no=1&page_size=100`);
    const body = (await res.json()) as { data: { items: Array<{ instance_id: string; status: string }> } };
    return body.data.items.find((item) => item.instance_id === ghost.instanceId)?.status;
  };
  const count = async (status: string): Promise<number> => {
    const res = await fetch(`${nodeB.url}/api/upload/count?status=${status}`);
    return ((await res.json()) as { data: { count: number } }).data.count;
  };

  beforeAll(async () => {
    cluster = await TestCluster.start({
      label: 'deadnode',
      nodes: 2,
      env: { PRESENCE_TTL_MS: String(TTL_MS), PRESENCE_REFRESH_MS: '2000' },
    });
    [nodeA, nodeB] = cluster.nodes;
    ghost = await registerInstance(nodeB.url, 'stock host on A');
    // A stock client never reconnects: once node A dies, nothing holds this instance.
    socket = new WebSocket(
      `${nodeA.url.replace('http', 'ws')}/api/ws/${ghost.instanceId}?password=${ghost.password}`,
    );
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('open', resolve));
    await eventually(async () => (await instanceDetail(nodeB.url, ghost)).status === 'online', 5_000);
  });

  afterAll(async () => {
    socket?.terminate();
    await cluster?.stop();
  });

  it('list, count and chat routing say offline as soon as detail does, long before the TTL', async () => {
    expect(await statusInList()).toBe('online');
    expect(await count('online')).toBe(1);

    const killedAt = Date.now();
    nodeA.proc.signal('SIGKILL');
    await eventually(async () => (await instanceDetail(nodeB.url, ghost)).status === 'offline', 5_000);
    const detailMs = Date.now() - killedAt;

    expect(await statusInList()).toBe('offline');
    expect(await count('online')).toBe(0);
    expect(await count('offline')).toBe(1);
    const chat = await fetch(`${nodeB.url}/api/chat/${ghost.instanceId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hello?' }], stream: false }),
    });
    expect(chat.status).toBe(503);
    expect(((await chat.json()) as { error: { code: string } }).error.code).toBe('instance_offline');
    // Everything above ran well within the record's lifetime: only node liveness can explain it.
    expect(Date.now() - killedAt).toBeLessThan(TTL_MS);
    console.log(`dead node: detail, list, count and chat all said offline ${detailMs} ms after the kill`);
  });
});
