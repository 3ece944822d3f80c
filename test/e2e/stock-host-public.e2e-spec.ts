import { RawWsClient } from '../support/raw-ws-client';
import { RunningRegistry, startRegistry } from '../support/processes';
import { eventually, instanceDetail, registerInstance } from '../support/registry-client';
import { contentOf, readSse } from '../support/sse';

interface ChatFrame {
  type: 'chat';
  request_id: string;
  request: Record<string, unknown>;
}

/** What a stock Second Me install does, unchanged by private instances: it never heard of keys. */
describe('a stock Second Me host on a public instance', () => {
  let node: RunningRegistry;

  beforeAll(async () => {
    node = await startRegistry({}, 'stock');
  });
  afterAll(async () => {
    await node?.proc.stop();
  });

  it('registers, connects with ?password (no hello), answers chats from anyone and keeps its REST calls', async () => {
    const instance = await registerInstance(node.url, 'second me');
    const host = await RawWsClient.open(
      node.port,
      `/api/ws/${instance.instanceId}?password=${encodeURIComponent(instance.password)}`,
    );
    host.send(JSON.stringify({ type: 'heartbeat', data: {}, version: '1.0' }));
    await host.until(() => host.messages.some((m) => m.includes('heartbeat_ack')), 5_000);
    await eventually(async () => (await instanceDetail(node.url, instance)).status === 'online', 5_000);

    const put = await fetch(`${node.url}/api/upload/${instance.instanceId}`, {
      method: 'PUT',
      headers: { authorization: instance.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ description: 'still here' }),
    });
    expect(((await put.json()) as { data: { updated_fields: string[] } }).data.updated_fields).toEqual([
      'description',
    ]);
    const detail = (await (
      await fetch(`${node.url}/api/upload/${instance.instanceId}`, {
        headers: { authorization: instance.auth },
      })
    ).json()) as { code: number; data: { visibility: string; description: string } };
    expect(detail).toMatchObject({ code: 0, data: { visibility: 'public', description: 'still here' } });
    const list = (await (await fetch(`${node.url}/api/upload/list?status=online`)).json()) as {
      data: { items: Array<{ instance_id: string }> };
    };
    expect(list.data.items.map((i) => i.instance_id)).toContain(instance.instanceId);

    // An SDK's placeholder key and no header at all are both anonymous callers of a public instance.
    for (const headers of [{ authorization: 'Bearer unused' }, {}] as Record<string, string>[]) {
      const seen = host.messages.length;
      const answer = readSse(
        `${node.url}/api/chat/${instance.instanceId}`,
        { messages: [{ role: 'user', content: 'hi' }] },
        { headers },
      );
      await host.until(() => host.messages.slice(seen).some((m) => m.includes('"type":"chat"')), 5_000);
      const frame = JSON.parse(
        host.messages.slice(seen).find((m) => m.includes('"type":"chat"'))!,
      ) as ChatFrame;
      // The body a stock host gets is what it always got: the registry asks for nothing more.
      expect(frame.request).toEqual({
        messages: [{ role: 'user', content: 'hi' }],
        temperature: 0.7,
        max_tokens: 2000,
        stream: true,
      });
      const line = (content: string) =>
        JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] });
      host.send(
        JSON.stringify({
          type: 'chat_response',
          request_id: frame.request_id,
          raw_sse: line('Hi'),
          done: false,
        }),
      );
      host.send(JSON.stringify({ type: 'chat_response', request_id: frame.request_id, done: true }));
      const result = await answer;
      expect([result.status, contentOf(result.data), result.done]).toEqual([200, 'Hi', true]);
    }
    host.destroy();
  });
});
