import type { ChatRequestBody } from '@app/protocol';
import { LocalClusterBus } from '../cluster/local-cluster-bus';
import { RecordingSink } from '../../../../test/doubles/recording-sink';
import { RemoteChatClient } from './remote-chat.client';

describe('RemoteChatClient', () => {
  // A one-node bus: replies "from the owner" are sent to ourselves.
  const bus = new LocalClusterBus('me');
  const client = new RemoteChatClient(bus);
  const owner = { nodeId: 'me', epoch: 1, instanceId: 'inst', replica: '' };
  const body: ChatRequestBody = { messages: [], stream: true, temperature: 0.7, max_tokens: 16 };
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  beforeAll(() => client.onModuleInit());
  afterAll(() => client.onModuleDestroy());

  it('ends a request with sequence_gap when a reply is missing, and ignores what follows', async () => {
    const sink = new RecordingSink();
    expect(await client.start(owner, 'r1', body, sink)).toBe(true);
    await bus.sendReply('me', { kind: 'chunks', requestId: 'r1', seq: 0, lines: ['a'] });
    // seq 1 was lost between the nodes.
    await bus.sendReply('me', { kind: 'chunks', requestId: 'r1', seq: 2, lines: ['c'] });
    await bus.sendReply('me', { kind: 'done', requestId: 'r1', seq: 3 });
    await settle();
    expect(sink.events).toEqual(['a', 'error:sequence_gap']);
    expect(client.size).toBe(0);
  });

  it('delivers replies in sequence to the end', async () => {
    const sink = new RecordingSink();
    await client.start(owner, 'r2', body, sink);
    await bus.sendReply('me', { kind: 'chunks', requestId: 'r2', seq: 0, lines: ['a'] });
    await bus.sendReply('me', { kind: 'chunks', requestId: 'r2', seq: 1, lines: ['b'], done: true });
    await settle();
    expect(sink.events).toEqual(['a', 'b', 'done']);
    expect(client.size).toBe(0);
  });
});
