import WebSocket from 'ws';
import { TestCluster } from '../support/cluster';
import { RunningRegistry } from '../support/processes';
import { eventually, instanceDetail, registerInstance, Registered } from '../support/registry-client';

/** A host socket with `password` on `node`; rejects with the HTTP status when the upgrade is refused. */
function connectHost(node: RunningRegistry, instanceId: string, password: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${node.port}/api/ws/${instanceId}`, {
      headers: { authorization: `Bearer ${instanceId}:${password}` },
    });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** The close code and how long after `since` the socket closed; code 0 if it was still open after 3 s. */
function closed(ws: WebSocket, since: () => number): Promise<{ code: number; afterMs: number }> {
  return new Promise((resolve) => {
    ws.once('close', (code) => resolve({ code, afterMs: Date.now() - since() }));
    setTimeout(() => resolve({ code: 0, afterMs: Date.now() - since() }), 3_000).unref();
  });
}

/**
 * A leaked password: an intruder's host holds the instance on node B. The owner rotates the
 * password (re-registers) or deletes the instance on node A; the intruder must be cut off within
 * 1 s and stay out.
 */
describe('fault: the password of a connected instance is rotated or the instance deleted on another node', () => {
  let cluster: TestCluster;
  let nodeA: RunningRegistry;
  let nodeB: RunningRegistry;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    cluster = await TestCluster.start({ label: 'rotate', nodes: 2 });
    [nodeA, nodeB] = cluster.nodes;
  });

  afterAll(async () => {
    sockets.forEach((ws) => ws.terminate());
    await cluster?.stop();
  });

  async function intruderOnB(instance: Registered): Promise<WebSocket> {
    const ws = await connectHost(nodeB, instance.instanceId, instance.password);
    sockets.push(ws);
    await eventually(async () => (await instanceDetail(nodeA.url, instance)).status === 'online', 2_000);
    return ws;
  }

  it('re-registration disconnects a host holding the old password within 1 s, and it cannot come back', async () => {
    const instance = await registerInstance(nodeA.url, 'leaked');
    const intruder = await intruderOnB(instance);
    let rotatedAt = 0;
    const end = closed(intruder, () => rotatedAt);

    rotatedAt = Date.now();
    const res = await fetch(`${nodeA.url}/api/upload/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: instance.auth },
      body: JSON.stringify({ upload_name: 'leaked', instance_id: instance.instanceId }),
    });
    expect(res.status).toBe(200);
    const newPassword = ((await res.json()) as { data: { instance_password: string } }).data
      .instance_password;

    const { code, afterMs } = await end;
    expect(code).toBe(4401);
    expect(afterMs).toBeLessThan(1_000);
    await expect(connectHost(nodeB, instance.instanceId, instance.password)).rejects.toThrow('HTTP 401');
    // The owner's host, with the new password, is welcome on either node.
    sockets.push(await connectHost(nodeB, instance.instanceId, newPassword));
  });

  it('deletion disconnects the host within 1 s, and it cannot come back', async () => {
    const instance = await registerInstance(nodeA.url, 'deleted');
    const intruder = await intruderOnB(instance);
    let deletedAt = 0;
    const end = closed(intruder, () => deletedAt);

    deletedAt = Date.now();
    const res = await fetch(`${nodeA.url}/api/upload/${instance.instanceId}`, {
      method: 'DELETE',
      headers: { authorization: instance.auth },
    });
    expect(res.status).toBe(200);

    const { code, afterMs } = await end;
    expect(code).toBe(4404);
    expect(afterMs).toBeLessThan(1_000);
    await expect(connectHost(nodeB, instance.instanceId, instance.password)).rejects.toThrow('HTTP 404');
  });
});
