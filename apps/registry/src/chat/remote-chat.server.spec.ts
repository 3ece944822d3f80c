import type { NodeReplyMessage } from '@app/protocol';
import type { ClusterBus } from '../cluster/cluster-bus';
import type { ChatSink } from '../contracts/chat-sink';
import type { ConnectedHosts } from '../hosts/connected-hosts';
import type { HostConnection } from '../hosts/host-connection';
import { RemoteChatServer } from './remote-chat.server';

const undeliveredError = {
  code: 'node_unreachable',
  message: 'part of the answer could not be delivered between registry nodes',
};

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A host socket here that hands every chat's sink to the test. */
const host = (epoch = 1) => {
  const sinks = new Map<string, ChatSink>();
  const connection = {
    epoch,
    startChat: jest.fn((requestId: string, _body: unknown, sink: ChatSink) => {
      sinks.set(requestId, sink);
      return true;
    }),
    cancelChat: jest.fn(),
  };
  return { connection, sinks, asHost: connection as unknown as HostConnection };
};

function setup(options: { here?: HostConnection; accepting?: Promise<HostConnection | undefined> } = {}) {
  const replies: NodeReplyMessage[] = [];
  let callerListens = true;
  const bus = {
    sendReply: (_node: string, reply: NodeReplyMessage) => {
      replies.push(reply);
      return Promise.resolve(callerListens);
    },
  };
  const hosts = {
    get: () => options.here,
    getOrAccepting: () => options.accepting ?? Promise.resolve(options.here),
  };
  const server = new RemoteChatServer(bus as unknown as ClusterBus, hosts as unknown as ConnectedHosts);
  const chat = (requestId = 'req-1', epoch = 1) =>
    server.handleChat({ kind: 'chat', requestId, from: 'caller', instanceId: 'inst', epoch, body: {} });
  return {
    server,
    replies,
    chat,
    callerGone: () => (callerListens = false),
    callerBack: () => (callerListens = true),
  };
}

describe('RemoteChatServer', () => {
  it('publishes the lines of one tick together, numbered, and the last ones carry done', async () => {
    const h = host();
    const t = setup({ here: h.asHost });
    t.chat();
    expect(t.server.size).toBe(1);
    const sink = h.sinks.get('req-1')!;
    sink.lines(['a']);
    sink.lines(['b']);
    await tick();
    sink.lines(['c']);
    sink.done();
    await tick();
    expect(t.replies).toEqual([
      { kind: 'chunks', requestId: 'req-1', seq: 0, lines: ['a', 'b'] },
      { kind: 'chunks', requestId: 'req-1', seq: 1, lines: ['c'], done: true },
    ]);
    expect(t.server.size).toBe(0);
  });

  it('answers not_connected when no socket here is as new as the one the caller read', async () => {
    const t = setup({ here: host(1).asHost });
    t.chat('req-1', 2);
    await tick();
    expect(t.replies).toEqual([
      {
        kind: 'error',
        requestId: 'req-1',
        seq: 0,
        code: 'not_connected',
        message: 'the instance is not connected',
      },
    ]);
    expect(t.server.size).toBe(0);
  });

  it('waits for a host this node is still accepting, and starts the chat on it', async () => {
    const h = host(2);
    let accept!: (connection: HostConnection) => void;
    const t = setup({ accepting: new Promise((resolve) => (accept = resolve)) });
    t.chat('req-1', 2);
    expect(t.server.size).toBe(0);
    accept(h.asHost);
    await tick();
    expect(h.connection.startChat).toHaveBeenCalledTimes(1);
    expect(t.server.size).toBe(1);
  });

  it('a chat cancelled while its host was being accepted is never started nor answered', async () => {
    const h = host(2);
    let accept!: (connection: HostConnection) => void;
    const t = setup({ accepting: new Promise((resolve) => (accept = resolve)) });
    t.chat('req-1', 2);
    t.server.cancel('req-1');
    accept(h.asHost);
    await tick();
    expect(h.connection.startChat).not.toHaveBeenCalled();
    expect(t.replies).toEqual([]);
  });

  it('a cancel reaches the host and frees the chat; the host’s own end is still relayed', async () => {
    const h = host();
    const t = setup({ here: h.asHost });
    t.chat();
    t.server.cancel('req-1');
    expect(h.connection.cancelChat).toHaveBeenCalledWith('req-1');
    expect(t.server.size).toBe(0);
    h.sinks.get('req-1')!.done();
    await tick();
    expect(t.replies).toEqual([{ kind: 'done', requestId: 'req-1', seq: 0 }]);
  });

  it('stops the host when the caller node no longer receives the replies', async () => {
    const h = host();
    const t = setup({ here: h.asHost });
    t.chat();
    t.callerGone();
    h.sinks.get('req-1')!.lines(['a']);
    await tick();
    await tick();
    expect(h.connection.cancelChat).toHaveBeenCalledWith('req-1');
    expect(t.server.size).toBe(0);
  });

  it('tells a caller that still listens when one of its replies was lost on the way (a shard failing over)', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick'] });
    try {
      const h = host();
      const t = setup({ here: h.asHost });
      t.chat();
      t.callerGone();
      h.sinks.get('req-1')!.lines(['a']);
      await tick();
      await tick();
      t.callerBack();
      jest.advanceTimersByTime(500);
      await tick();
      expect(t.replies.at(-1)).toEqual({ kind: 'error', requestId: 'req-1', seq: 1, ...undeliveredError });
      const sent = t.replies.length;
      jest.advanceTimersByTime(5_000);
      await tick();
      expect(t.replies).toHaveLength(sent);
    } finally {
      jest.useRealTimers();
    }
  });
});
