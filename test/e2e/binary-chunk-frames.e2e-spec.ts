import WebSocket from 'ws';
import {
  CHUNK_FRAMES_BINARY,
  CHUNK_FRAMES_HEADER,
  encodeChunkFrame,
  sseEvents,
  type ChatFrame,
} from '@app/protocol';
import { TestCluster } from '../support/cluster';
import type { RunningRegistry } from '../support/processes';
import type { Registered } from '../support/registry-client';

const chunk = (content: string | null, finish: string | null = null) =>
  JSON.stringify({
    id: 'c',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'binary-host',
    choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finish }],
  });
const USAGE = JSON.stringify({
  id: 'c',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'binary-host',
  choices: [],
  usage: { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 },
});

/**
 * A host written by hand that speaks the binary chunk frames (as the agent does), so the test sees
 * exactly which bytes it sent and which bytes each caller got, on the host's node and across Redis.
 */
describe('binary chunk frames: the SSE bytes a host sends reach the caller as they are (two nodes, real Redis)', () => {
  let cluster: TestCluster;
  let nodeA: RunningRegistry;
  let nodeB: RunningRegistry;
  let instance: Registered;
  let host: WebSocket;
  let offered: string | undefined;

  beforeAll(async () => {
    cluster = await TestCluster.start({ label: 'binchunks', nodes: 2, env: { CHAT_HOLD_MS: '0' } });
    [nodeA, nodeB] = cluster.nodes;
    instance = await cluster.register();
    host = new WebSocket(`${nodeA.url.replace('http', 'ws')}/api/ws/${instance.instanceId}`, {
      headers: { Authorization: instance.auth },
    });
    host.on('upgrade', (res) => (offered = res.headers[CHUNK_FRAMES_HEADER] as string | undefined));
    await new Promise((resolve) => host.once('open', resolve));
    host.send(
      JSON.stringify({ type: 'hello', capabilities: { concurrency: 4, cancel: true, binary_chunks: true } }),
    );
    host.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { type: string };
      if (frame.type !== 'chat') return;
      const id = (frame as ChatFrame).request_id;
      // Two reads of the model: two content chunks, then the finish and usage chunks with [DONE].
      host.send(encodeChunkFrame(id, sseEvents([chunk('Hel'), chunk('lo')]), false));
      setTimeout(() => host.send(encodeChunkFrame(id, sseEvents([chunk(null, 'stop'), USAGE]), true)), 20);
    });
    await cluster.waitOnline(instance, { via: [nodeB] });
  });

  afterAll(async () => {
    host?.terminate();
    await cluster?.stop();
  });

  const call = async (node: RunningRegistry, body: Record<string, unknown>) => {
    const res = await fetch(`${node.url}/api/chat/${instance.instanceId}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], ...body }),
    });
    return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
  };

  it('is offered in the upgrade response', () => {
    expect(offered).toBe(CHUNK_FRAMES_BINARY);
  });

  it.each([
    ['on the node holding the host', () => nodeA],
    ['on the other node, through Redis', () => nodeB],
  ])('streams the events byte for byte %s; the usage chunk only to a caller who asked', async (_l, node) => {
    const plain = await call(node(), { stream: true });
    expect(plain.status).toBe(200);
    expect(plain.type).toContain('text/event-stream');
    expect(plain.body).toBe(`${sseEvents([chunk('Hel'), chunk('lo'), chunk(null, 'stop')])}data: [DONE]\n\n`);

    const withUsage = await call(node(), { stream: true, stream_options: { include_usage: true } });
    expect(withUsage.body).toBe(
      `${sseEvents([chunk('Hel'), chunk('lo'), chunk(null, 'stop'), USAGE])}data: [DONE]\n\n`,
    );
  });

  it.each([
    ['on the node holding the host', () => nodeA],
    ['on the other node, through Redis', () => nodeB],
  ])('assembles one answer for stream: false %s', async (_l, node) => {
    const full = await call(node(), { stream: false });
    expect(full.status).toBe(200);
    const answer = JSON.parse(full.body) as {
      choices: { message: { content: string }; finish_reason: string }[];
      usage: { total_tokens: number };
    };
    expect(answer.choices[0].message.content).toBe('Hello');
    expect(answer.choices[0].finish_reason).toBe('stop');
    expect(answer.usage.total_tokens).toBe(6);
  });
});
