import { CHAT_FAILURE_CODES, type ChatFailureCode } from '@app/protocol';
import type { ClusterBus } from '../cluster/cluster-bus';
import { loadConfig } from '../config/app-config';
import type { ConnectedHosts, ReplicaChange } from '../hosts/connected-hosts';
import type { HostConnection } from '../hosts/host-connection';
import { eventually } from '../../../../test/support/eventually';
import { Metrics } from '../metrics/metrics';
import type { OnlineInstances } from '../presence/online-instances';
import type { ReplicaRecord } from '../presence/presence.store';
import type { RedisConnections } from '../redis/redis-connections';
import type { ReplicaGossip } from '../replicas/replica-gossip';
import { ReplicaTable } from '../replicas/replica-table';
import { CHAT_FAILURES } from './chat-failures';
import { ChatRoute, type ChatToRoute } from './chat-route';
import { ChatRouter, RoutedSink } from './chat-router';
import type { ChatSink } from './chat-sink';
import type { RemoteChatClient, RemoteReplica } from './remote-chat.client';

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
/** Sends a first token, then fails. */
const startsThenFails =
  (code: ChatFailureCode): Behaviour =>
  (sink) => {
    sink.lines(['partial']);
    sink.error(code, code);
  };

/** A replica's socket on this node that behaves as told. */
function localReplica(name: string, behaviour: Behaviour, capacity = 1, load = 0) {
  const started: string[] = [];
  const connection = {
    instanceId: 'inst',
    replica: name,
    slot: `inst/${name}`,
    epoch: 1,
    capacity,
    load,
    isServing: true,
    draining: false,
    startChat: (id: string, _body: unknown, sink: ChatSink) => {
      started.push(id);
      setImmediate(() => behaviour(sink));
      return true;
    },
    cancelChat: jest.fn(),
  };
  return { connection: connection as unknown as HostConnection, started };
}

/** A replica another node holds, as presence records it. */
const remoteRecord = (name: string, nodeId: string, capacity = 1, inFlight = 0): ReplicaRecord => ({
  instanceId: 'inst',
  replica: name,
  nodeId,
  epoch: 1,
  capacity,
  inFlight,
  connectedAt: 0,
  draining: false,
});

function setup(
  options: {
    local?: HostConnection[];
    records?: ReplicaRecord[];
    remote?: (replica: RemoteReplica) => Behaviour;
    /** Node ids nobody listens for (PUBLISH reaches no one). */
    deadNodes?: string[];
    distributed?: boolean;
    env?: Record<string, string>;
  } = {},
) {
  const sentTo: string[] = [];
  const remote = {
    start: (replica: RemoteReplica, _id: string, _body: unknown, sink: ChatSink) => {
      sentTo.push(`${replica.nodeId}:${replica.replica}`);
      if (options.deadNodes?.includes(replica.nodeId)) return Promise.resolve(false);
      setImmediate(() => (options.remote?.(replica) ?? answers)(sink));
      return Promise.resolve(true);
    },
    cancel: jest.fn(),
  };
  const local = options.local ?? [];
  const listeners: Array<(c: HostConnection, change: ReplicaChange) => void> = [];
  const hosts = {
    servingOf: () => local,
    acceptingOf: () => Promise.resolve(),
    onChange: (listener: (c: HostConnection, change: ReplicaChange) => void) => listeners.push(listener),
  };
  let presenceReads = 0;
  const online = {
    useLiveState: () => undefined,
    replicas: () => {
      presenceReads++;
      return Promise.resolve(options.records ?? []);
    },
  };
  const gossip = { onGained: () => undefined };
  const metrics = new Metrics();
  const table = new ReplicaTable('me');
  const router = new ChatRouter(
    hosts as unknown as ConnectedHosts,
    online as unknown as OnlineInstances,
    remote as unknown as RemoteChatClient,
    { nodeId: 'me' } as unknown as ClusterBus,
    metrics,
    table,
    gossip as unknown as ReplicaGossip,
    (options.distributed ?? true) ? ({} as RedisConnections) : null,
    loadConfig({ CHAT_HOLD_MS: '300', ...options.env }),
  );
  router.onModuleInit();
  const newChat = (instanceId = 'inst'): ChatToRoute & { sink: CallerSink } => ({
    instanceId,
    requestId: `req-${Math.random()}`,
    hostBody: { messages: [] } as unknown as ChatToRoute['hostBody'],
    sink: new CallerSink(),
  });
  /** Routes a chat as the relay does once it was admitted. */
  const dispatch = (c: ChatToRoute & { sink: CallerSink }, route = new ChatRoute(c)) =>
    router.dispatch(route, c.sink);
  /** What admission says of a new chat to the instance. */
  const admit = async (lastSeenAt: number | null, instanceId = 'inst') =>
    (await router.admission(newChat(instanceId), lastSeenAt)).kind;
  const chat = newChat();
  /** Until the caller got its end, then a little longer for anything that should not follow. */
  const settled = async (c = chat) => {
    await eventually(() => c.sink.isFinished, 3_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
  };
  const reroutes = async () => (await metrics.chatReroutes.get()).values[0]?.value ?? 0;
  /** A replica connected on this node: what ConnectedHosts tells its listeners. */
  const connectLocal = (connection: HostConnection) => {
    local.push(connection);
    for (const listener of listeners) listener(connection, 'up');
  };
  return {
    router,
    chat,
    newChat,
    dispatch,
    admit,
    table,
    remote,
    sentTo,
    settled,
    reroutes,
    connectLocal,
    presenceReads: () => presenceReads,
  };
}

describe('ChatRouter', () => {
  it('sends a chat to the replica with the most free capacity, here or on another node', async () => {
    const busy = localReplica('busy', answers, 2, 2);
    const t = setup({ local: [busy.connection], records: [remoteRecord('far', 'b', 4, 1)] });
    await t.dispatch(t.chat);
    await t.settled();
    expect(t.sentTo).toEqual(['b:far']);
    expect(busy.started).toEqual([]);
    expect(t.chat.sink.events).toEqual(['a', 'done']);
  });

  it('prefers this node on a tie, and reads presence once for many chats', async () => {
    const near = localReplica('near', answers, 1, 0);
    const t = setup({ local: [near.connection], records: [remoteRecord('far', 'b', 1, 0)] });
    for (let i = 0; i < 3; i++) {
      const chat = t.newChat();
      await t.dispatch(chat);
      await t.settled(chat);
    }
    expect(near.started).toHaveLength(3);
    expect(t.sentTo).toEqual([]);
    expect(t.presenceReads()).toBe(1);
  });

  it('counts the chats it has sent to a remote replica as its load until they end', async () => {
    let release: () => void = () => undefined;
    const t = setup({
      records: [remoteRecord('x', 'b', 1, 0), remoteRecord('y', 'c', 1, 0)],
      remote: () => (sink) => (release = () => answers(sink)),
    });
    const first = t.newChat();
    const second = t.newChat();
    await t.dispatch(first);
    await t.dispatch(second);
    // Both free at first; the second sees the first's replica busy and takes the other one.
    expect(new Set(t.sentTo).size).toBe(2);
    await eventually(() => t.sentTo.length === 2, 1_000);
    release();
  });

  it('moves a chat that failed before its first token to another replica', async () => {
    const gone = localReplica('gone', fails('host_disconnected'), 4, 0);
    const t = setup({ local: [gone.connection], records: [remoteRecord('ok', 'b', 1, 0)] });
    await t.dispatch(t.chat);
    await t.settled();
    expect(gone.started).toHaveLength(1);
    expect(t.sentTo).toEqual(['b:ok']);
    expect(t.chat.sink.events).toEqual(['a', 'done']);
    expect(await t.reroutes()).toBe(1);
  });

  it('never runs a chat twice once a token reached the caller', async () => {
    const flaky = localReplica('flaky', startsThenFails('host_disconnected'), 4, 0);
    const t = setup({ local: [flaky.connection], records: [remoteRecord('ok', 'b', 1, 0)] });
    await t.dispatch(t.chat);
    await t.settled();
    expect(t.sentTo).toEqual([]);
    expect(t.chat.sink.events).toEqual(['partial', 'error:host_disconnected']);
  });

  it('a replica that is full sends the chat to the next; all full is a 429, without waiting', async () => {
    const full = localReplica('full', fails('queue_full'), 1, 0);
    const t = setup({
      local: [full.connection],
      records: [remoteRecord('alsoFull', 'b', 1, 0)],
      remote: () => fails('queue_full'),
    });
    await t.dispatch(t.chat);
    await t.settled();
    expect(full.started).toHaveLength(1);
    expect(t.sentTo).toEqual(['b:alsoFull']);
    expect(t.chat.sink.events).toEqual(['error:queue_full']);
  });

  it('a replica out of reach for a moment (node_unreachable) is tried again after a wait, not given up', async () => {
    let calls = 0;
    const t = setup({
      records: [remoteRecord('only', 'b', 1, 0)],
      remote: () => (++calls === 1 ? fails('node_unreachable') : answers),
      env: { CHAT_HOLD_MS: '5000' },
    });
    await t.dispatch(t.chat);
    await t.settled();
    expect(t.sentTo).toEqual(['b:only', 'b:only']);
    expect(t.chat.sink.events).toEqual(['a', 'done']);
  });

  it('a node nobody listens for loses its replicas, and the chat goes elsewhere', async () => {
    const t = setup({
      records: [remoteRecord('dead', 'd', 8, 0), remoteRecord('live', 'b', 1, 0)],
      deadNodes: ['d'],
    });
    await t.dispatch(t.chat);
    await t.settled();
    expect(t.sentTo).toEqual(['d:dead', 'b:live']);
    expect(t.chat.sink.events).toEqual(['a', 'done']);
  });

  it('holds a chat while no replica is connected and sends it to the first that connects', async () => {
    const t = setup({ distributed: false, env: { CHAT_HOLD_MS: '5000' } });
    expect(await t.admit(Date.now())).toBe('hold');
    const dispatched = t.dispatch(t.chat);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(t.router.heldCount('inst')).toBe(1);
    const back = localReplica('back', answers);
    t.connectLocal(back.connection);
    await dispatched;
    await t.settled();
    expect(t.chat.sink.events).toEqual(['a', 'done']);
    expect(t.router.heldCount('inst')).toBe(0);
  });

  it('a held chat whose replica never comes gets instance_offline when the hold ends', async () => {
    const t = setup({ distributed: false, env: { CHAT_HOLD_MS: '200' } });
    await t.dispatch(t.chat);
    await t.settled();
    expect(t.chat.sink.events).toEqual(['error:instance_offline']);
    expect(t.router.heldCount('inst')).toBe(0);
  });

  it('a chat whose only replica dropped before the first token waits for it to come back', async () => {
    const dropped = localReplica('r', fails('host_disconnected'));
    const t = setup({ distributed: false, local: [dropped.connection], env: { CHAT_HOLD_MS: '5000' } });
    const dispatched = t.dispatch(t.chat);
    await eventually(() => t.router.heldCount('inst') === 1, 1_000);
    const again = localReplica('r', answers);
    (again.connection as { epoch: number }).epoch = 2;
    t.connectLocal(again.connection);
    await dispatched;
    await t.settled();
    expect(t.chat.sink.events).toEqual(['a', 'done']);
  });

  it('admission: offline without a hold, hold_full past CHAT_HOLD_LIMIT', async () => {
    expect(await setup({ distributed: false, env: { CHAT_HOLD_MS: '0' } }).admit(Date.now())).toBe('offline');
    const t = setup({ distributed: false, env: { CHAT_HOLD_MS: '5000', CHAT_HOLD_LIMIT: '1' } });
    void t.dispatch(t.chat);
    await eventually(() => t.router.heldCount('inst') === 1, 1_000);
    expect(await t.admit(Date.now())).toBe('hold_full');
    t.connectLocal(localReplica('r', answers).connection);
    await t.settled();
  });

  it('admission: an instance never connected, or not lately, is not waited for', async () => {
    const t = setup({ distributed: false, env: { CHAT_HOLD_MS: '5000', CHAT_HOLD_RECENT_MS: '60000' } });
    expect(await t.admit(null)).toBe('offline');
    expect(await t.admit(Date.now() - 61_000)).toBe('offline');
    expect(await t.admit(Date.now() - 59_000)).toBe('hold');
  });

  it('admission: node_hold_full past CHAT_HOLD_NODE_LIMIT, whatever the instance', async () => {
    const t = setup({ distributed: false, env: { CHAT_HOLD_MS: '5000', CHAT_HOLD_NODE_LIMIT: '1' } });
    void t.dispatch(t.chat);
    await eventually(() => t.router.heldCount('inst') === 1, 1_000);
    expect(await t.admit(Date.now(), 'other')).toBe('node_hold_full');
    t.connectLocal(localReplica('r', answers).connection);
    await t.settled();
    expect(t.router.heldCount('inst')).toBe(0);
  });

  it('a draining replica gets no new chat while another can take it', async () => {
    const draining = localReplica('old', answers, 8, 0);
    (draining.connection as { draining: boolean }).draining = true;
    const t = setup({ local: [draining.connection], records: [remoteRecord('new', 'b', 1, 0)] });
    await t.dispatch(t.chat);
    await t.settled();
    expect(draining.started).toEqual([]);
    expect(t.sentTo).toEqual(['b:new']);
  });

  it('admission finds the candidates of the first attempt: the list is built once for it', async () => {
    const t = setup({ records: [remoteRecord('far', 'b')] });
    const admission = await t.router.admission(t.chat, Date.now());
    expect(admission.kind).toBe('route');
    const reads = jest.spyOn(t.table, 'get');
    if (admission.kind === 'route') await t.dispatch(t.chat, admission.route);
    await t.settled();
    expect(t.sentTo).toEqual(['b:far']);
    expect(reads).not.toHaveBeenCalled();
  });

  it("the route's cancel reaches the replica the chat is on, here or on another node", async () => {
    const silent = localReplica('silent', () => undefined);
    const here = setup({ local: [silent.connection] });
    const route = new ChatRoute(here.chat);
    await here.dispatch(here.chat, route);
    route.cancel();
    expect(silent.connection.cancelChat).toHaveBeenCalledWith(here.chat.requestId);

    const far = setup({ records: [remoteRecord('far', 'b')], remote: () => () => undefined });
    const remoteRoute = new ChatRoute(far.chat);
    await far.dispatch(far.chat, remoteRoute);
    await eventually(() => far.sentTo.length === 1, 1_000);
    remoteRoute.cancel();
    expect(far.remote.cancel).toHaveBeenCalledWith(far.chat.requestId);
  });

  it("a held chat's cancel (its caller left) ends the wait at once and frees its place", async () => {
    const t = setup({ distributed: false, env: { CHAT_HOLD_MS: '5000' } });
    const route = new ChatRoute(t.chat);
    const dispatched = t.dispatch(t.chat, route);
    await eventually(() => t.router.heldCount('inst') === 1, 1_000);
    t.chat.sink.isFinished = true;
    route.cancel();
    await dispatched;
    expect(t.router.heldCount('inst')).toBe(0);
  });

  describe.each(CHAT_FAILURE_CODES)(
    'after %s before the first token, routing does what CHAT_FAILURES says',
    (code) => {
      const { failover, hold } = CHAT_FAILURES[code];

      it(`${failover ? 'tries' : 'does not try'} another replica`, async () => {
        const first = localReplica('first', fails(code), 4, 0);
        const second = localReplica('second', answers, 1, 0);
        const t = setup({ distributed: false, local: [first.connection, second.connection] });
        await t.dispatch(t.chat);
        await t.settled();
        expect(first.started).toHaveLength(1);
        expect(second.started).toHaveLength(failover ? 1 : 0);
        expect(t.chat.sink.events).toEqual(failover ? ['a', 'done'] : [`error:${code}`]);
      });

      it(`${failover && hold ? 'waits for' : 'does not wait for'} a replica when it was the only one`, async () => {
        const only = localReplica('only', fails(code));
        const t = setup({ distributed: false, local: [only.connection], env: { CHAT_HOLD_MS: '5000' } });
        const dispatched = t.dispatch(t.chat);
        if (failover && hold) {
          await eventually(() => t.router.heldCount('inst') === 1, 1_000);
          const again = localReplica('only', answers);
          (again.connection as { epoch: number }).epoch = 2;
          t.connectLocal(again.connection);
        }
        await dispatched;
        await t.settled();
        expect(t.chat.sink.events).toEqual(failover && hold ? ['a', 'done'] : [`error:${code}`]);
      });
    },
  );
});
