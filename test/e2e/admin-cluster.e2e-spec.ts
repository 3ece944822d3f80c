import { ClusterWithAgent, startClusterWithAgent } from '../support/cluster';
import { eventually } from '../support/registry-client';
import { readSse } from '../support/sse';

const TOKEN = 'operator-token-0123456789';

interface ClusterView {
  nodes: Array<{
    node_id: string;
    connected_hosts: number;
    chats_per_second: number;
    ttft_p50_ms: number | null;
  }>;
  totals: { nodes: number; connected_hosts: number };
  online_instances: number;
}

describe('GET /api/admin/cluster across two nodes (Redis, PostgreSQL, real agent)', () => {
  let setup: ClusterWithAgent;

  beforeAll(async () => {
    setup = await startClusterWithAgent(
      { label: 'admin', nodes: 2, env: { ADMIN_TOKEN: TOKEN } },
      { chunks: 3, delayMs: 10 },
    );
  });

  afterAll(async () => {
    await setup?.cluster.stop();
  });

  const view = (url: string, authorization?: string) =>
    fetch(`${url}/api/admin/cluster`, { headers: authorization ? { authorization } : {} });

  it('refuses a missing or wrong ADMIN_TOKEN with 401 naming what is needed', async () => {
    const [nodeA] = setup.cluster.nodes;
    const missing = await view(nodeA.url);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect(((await missing.json()) as { message: string }).message).toContain(
      'Authorization: Bearer <ADMIN_TOKEN>',
    );
    const wrong = await view(nodeA.url, 'Bearer not-the-operator-token');
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain(TOKEN);
  });

  it("shows every node's own counters from whichever node is asked", async () => {
    const [nodeA, nodeB] = setup.cluster.nodes;
    const chat = await readSse(`${nodeB.url}/api/chat/${setup.instance.instanceId}`, {
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(chat.done).toBe(true);
    let seen: ClusterView | undefined;
    await eventually(
      async () => {
        const res = await view(nodeB.url, `Bearer ${TOKEN}`);
        seen = (await res.json()) as ClusterView;
        const a = seen.nodes.find((n) => n.node_id === nodeA.nodeId);
        const b = seen.nodes.find((n) => n.node_id === nodeB.nodeId);
        // The host is on A; the chat's caller was on B, which measured its time to first token.
        return (
          res.status === 200 && a?.connected_hosts === 1 && b?.connected_hosts === 0 && b.ttft_p50_ms !== null
        );
      },
      5_000,
      200,
    );
    expect(seen!.totals).toMatchObject({ nodes: 2, connected_hosts: 1 });
    expect(seen!.online_instances).toBe(1);
  });

  it('drops a node that stopped', async () => {
    const [nodeA, nodeB] = setup.cluster.nodes;
    await nodeB.proc.stop('SIGKILL');
    // Its record expires 5 s after its last write.
    await eventually(
      async () => {
        const seen = (await (await view(nodeA.url, `Bearer ${TOKEN}`)).json()) as ClusterView;
        return seen.nodes.length === 1 && seen.nodes[0].node_id === nodeA.nodeId;
      },
      10_000,
      250,
    );
  });
});
