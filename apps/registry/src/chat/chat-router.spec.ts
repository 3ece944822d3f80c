import type { ChatSink } from './chat-sink';
import type { ChatFailureCode } from '@app/protocol';
import type { ClusterBus } from '../cluster/cluster-bus';
import type { ConnectedHosts } from '../hosts/connected-hosts';
import type { HostConnection } from '../hosts/host-connection';
import { eventually } from '../../../../test/support/eventually';
import { Metrics } from '../metrics/metrics';
import type { OnlineInstances } from '../presence/online-instances';
import type { PresenceOwner } from '../presence/presence.store';
import { ChatRouter, RoutedChat, RoutedSink } from './chat-router';
import type { RemoteChatClient } from './remote-chat.client';

/** The caller's side: records what reached it. */
class CallerSink implements RoutedSink {
  events: string[] = [];
  isFinished = false;
  lines(lines: string[]): void {
    this.events.push(...lines);
  }
  done(): void {
    this.events.push('done');
    this.isFinished = true;
  }
  error(code: ChatFailureCode): void {
    this.events.push(`error:${code}`);
    this.isFinished = true;
  }
}

type Behaviour = (sink: ChatSink) => void;
const answers: Behaviour = (sink) => {
  sink.lines(['a']);
  sink.done();
};
const fails =
  (code: ChatFailureCode): Behaviour =>
  (sink) =>
    sink.error(code, code);

/** A host socket on this node that behaves as told. */
const localHost = (behaviour: Behaviour) => {
  const started: string[] = [];
  const host = {
    startChat: (id: string, _body: unknown, sink: ChatSink) => {
      started.push(id);
      behaviour(sink);
      return true;
    },
    cancelChat: jest.fn(),
  };
  return { host: host as unknown as HostConnection, started };
};

function setup(options: {
  local?: HostConnection;
  owner?: PresenceOwner | null;
  remote?: (owner: PresenceOwner) => Behaviour;
  /** Node ids nobody listens for (PUBLISH reaches no one). */
  deadNodes?: string[];
}) {
  const sentTo: PresenceOwner[] = [];
  let presenceReads = 0;
  const remote = {
    start: (owner: PresenceOwner, _i: string, _r: string, _b: unknown, sink: ChatSink) => {
      sentTo.push(owner);
      if (options.deadNodes?.includes(owner.nodeId)) return Promise.resolve(false);
      setImmediate(() => options.remote?.(owner)(sink));
      return Promise.resolve(true);
    },
    cancel: jest.fn(),
  };
  const hosts = { get: () => options.local, getOrAccepting: () => Promise.resolve(options.local) };
  const online = {
    owner: () => {
      presenceReads++;
      return Promise.resolve(options.owner ?? null);
    },
  };
  const bus = { nodeId: 'me' };
  const metrics = new Metrics();
  const router = new ChatRouter(
    hosts as unknown as ConnectedHosts,
    online as unknown as OnlineInstances,
    remote as unknown as RemoteChatClient,
    bus as unknown as ClusterBus,
    metrics,
  );
  const caller = new CallerSink();
  const chat: RoutedChat = {
    instanceId: 'inst',
    requestId: 'req-1',
    hostBody: { messages: [] } as unknown as RoutedChat['hostBody'],
    sink: caller,
    setCancel: () => {},
  };
  /** Until the caller got its end, then a little longer for anything that should not follow. */
  const settled = async () => {
    await eventually(() => caller.isFinished, 2_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
  };
  const reroutes = async () => (await metrics.chatReroutes.get()).values[0]?.value ?? 0;
  return { router, chat, caller, sentTo, settled, reroutes, presenceReads: () => presenceReads, options };
}

describe('ChatRouter', () => {
  const nodeA: PresenceOwner = { nodeId: 'a', epoch: 1 };
  const nodeB: PresenceOwner = { nodeId: 'b', epoch: 2 };

  it('relays an answer from the owner node unchanged', async () => {
    const t = setup({ remote: () => answers });
    await t.router.dispatch(t.chat, { owner: nodeA });
    await t.settled();
    expect(t.caller.events).toEqual(['a', 'done']);
    expect(await t.reroutes()).toBe(0);
  });

  it('follows the host to its new owner when the old one says not_connected', async () => {
    const t = setup({
      owner: nodeB,
      remote: (owner) => (owner.nodeId === 'a' ? fails('not_connected') : answers),
    });
    await t.router.dispatch(t.chat, { owner: nodeA });
    await t.settled();
    expect(t.sentTo).toEqual([nodeA, nodeB]);
    expect(t.caller.events).toEqual(['a', 'done']);
    expect(await t.reroutes()).toBe(1);
  });

  it('follows the host to this node when it reconnected here', async () => {
    const here = localHost(answers);
    const t = setup({ local: here.host, remote: () => fails('host_moved') });
    await t.router.dispatch(t.chat, { owner: nodeA });
    await t.settled();
    expect(here.started).toEqual(['req-1']);
    expect(t.caller.events).toEqual(['a', 'done']);
  });

  it('fails when presence still names the node that said not_connected', async () => {
    const t = setup({ owner: nodeA, remote: () => fails('not_connected') });
    await t.router.dispatch(t.chat, { owner: nodeA });
    await t.settled();
    expect(t.sentTo).toEqual([nodeA]);
    expect(t.caller.events).toEqual(['error:not_connected']);
  });

  it('fails when the instance is nowhere any more', async () => {
    const t = setup({ owner: null, remote: () => fails('host_moved') });
    await t.router.dispatch(t.chat, { owner: nodeA });
    await t.settled();
    expect(t.caller.events).toEqual(['error:host_moved']);
  });

  it('never resends a chat the host may have seen (any other failure)', async () => {
    const t = setup({
      owner: nodeB,
      remote: (o) => (o.nodeId === 'a' ? fails('host_disconnected') : answers),
    });
    await t.router.dispatch(t.chat, { owner: nodeA });
    await t.settled();
    expect(t.sentTo).toEqual([nodeA]);
    expect(t.caller.events).toEqual(['error:host_disconnected']);
  });

  it('gives up after a bounded number of moves', async () => {
    let epoch = 1;
    const t = setup({ remote: () => fails('not_connected') });
    // Every read of presence shows yet another owner.
    (t.router as unknown as { online: { owner: () => Promise<PresenceOwner> } }).online.owner = () =>
      Promise.resolve({ nodeId: `n${++epoch}`, epoch });
    await t.router.dispatch(t.chat, { owner: nodeA });
    await t.settled();
    expect(t.sentTo).toHaveLength(3);
    expect(t.caller.events).toEqual(['error:not_connected']);
  });

  it('follows the host when nobody listens on the old owner any more (node died)', async () => {
    const t = setup({ owner: nodeB, deadNodes: ['a'], remote: () => answers });
    await t.router.dispatch(t.chat, { owner: nodeA });
    await t.settled();
    expect(t.sentTo).toEqual([nodeA, nodeB]);
    expect(t.caller.events).toEqual(['a', 'done']);
  });

  it('answers not_connected when the dead owner is still the one presence names', async () => {
    const t = setup({ owner: nodeA, deadNodes: ['a'] });
    await t.router.dispatch(t.chat, { owner: nodeA });
    await t.settled();
    expect(t.caller.events).toEqual(['error:not_connected']);
  });

  it('resolve: the local socket first, else the owner, read once and then cached', async () => {
    const t = setup({ owner: nodeA });
    expect(await t.router.resolve('inst')).toEqual({ owner: nodeA });
    expect(await t.router.resolve('inst')).toEqual({ owner: nodeA });
    expect(t.presenceReads()).toBe(1);
    const here = localHost(answers);
    t.options.local = here.host;
    expect(await t.router.resolve('inst')).toEqual({ local: here.host });
  });

  it('resolve: a reroute replaces the cached owner; an absent or own record is not cached', async () => {
    const t = setup({ owner: nodeA, remote: (o) => (o.nodeId === 'a' ? fails('not_connected') : answers) });
    await t.router.resolve('inst');
    t.options.owner = nodeB;
    await t.router.dispatch(t.chat, { owner: nodeA });
    await t.settled();
    expect(await t.router.resolve('inst')).toEqual({ owner: nodeB });
    t.options.owner = null;
    const fresh = setup({ owner: null });
    expect(await fresh.router.resolve('inst')).toBeNull();
    expect(await fresh.router.resolve('inst')).toBeNull();
    expect(fresh.presenceReads()).toBe(2);
    const own = setup({ owner: { nodeId: 'me', epoch: 3 } });
    expect(await own.router.resolve('inst')).toBeNull();
  });

  it('does not reroute once the caller has gone', async () => {
    const t = setup({ owner: nodeB, remote: () => fails('not_connected') });
    t.caller.isFinished = true;
    await t.router.dispatch(t.chat, { owner: nodeA });
    await t.settled();
    expect(t.sentTo).toEqual([nodeA]);
  });
});
