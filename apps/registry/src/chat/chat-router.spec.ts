import type { ChatRequestBody } from '@app/protocol';
import {
  answers,
  FakeHostConnection,
  fails,
  HostBehaviour,
  startsThenFails,
} from '../../../../test/doubles/fake-host-connection';
import { HookedPresenceStore } from '../../../../test/doubles/hooked-presence-store';
import { RecordingBus } from '../../../../test/doubles/recording-bus';
import { RecordingSink } from '../../../../test/doubles/recording-sink';
import { eventually } from '../../../../test/support/eventually';
import { LiveNodes } from '../cluster/live-nodes';
import { loadConfig } from '../config/app-config';
import type { ChatSink } from '../contracts/chat-sink';
import { ConnectedHosts } from '../hosts/connected-hosts';
import { Metrics } from '../metrics/metrics';
import { OnlineInstances } from '../presence/online-instances';
import { ReplicaGossip } from '../replicas/replica-gossip';
import { ReplicaTable } from '../replicas/replica-table';
import { ChatRouter, RoutedChat } from './chat-router';
import { RemoteChatClient, RemoteReplica } from './remote-chat.client';

const HOST_BODY: ChatRequestBody = { messages: [], stream: true, temperature: 0.7, max_tokens: 16 };

/** A replica's socket on this node that behaves as told. */
const localReplica = (name: string, answer: HostBehaviour, capacity = 1, load = 0) =>
  new FakeHostConnection({ replica: name, answer, capacity, load });

/** A replica another node holds, as presence records it. */
const remoteRecord = (name: string, nodeId: string, capacity = 1, inFlight = 0) => ({
  name,
  nodeId,
  state: { capacity, inFlight },
});

/** Other nodes as the router reaches them: each chat answered as `answer` says; `deadNodes` listen to nothing. */
class ScriptedRemoteChats extends RemoteChatClient {
  readonly sentTo: string[] = [];

  constructor(
    bus: RecordingBus,
    private readonly answer: (replica: RemoteReplica) => HostBehaviour,
    private readonly deadNodes: readonly string[],
  ) {
    super(bus);
  }

  override async start(replica: RemoteReplica, _id: string, _body: ChatRequestBody, sink: ChatSink) {
    this.sentTo.push(`${replica.nodeId}:${replica.replica}`);
    if (this.deadNodes.includes(replica.nodeId)) return false;
    setImmediate(() => this.answer(replica)(sink));
    return true;
  }

  override cancel(): void {}
}

function setup(
  options: {
    local?: FakeHostConnection[];
    records?: Array<ReturnType<typeof remoteRecord>>;
    remote?: (replica: RemoteReplica) => HostBehaviour;
    /** Node ids nobody listens for (PUBLISH reaches no one). */
    deadNodes?: string[];
    distributed?: boolean;
    env?: Record<string, string>;
  } = {},
) {
  // Only whether the node is distributed matters to the router: REDIS_URL says so, nothing connects.
  const config = loadConfig({
    NODE_ID: 'me',
    CHAT_HOLD_MS: '300',
    ...((options.distributed ?? true) && { REDIS_URL: 'redis://127.0.0.1:6379' }),
    ...options.env,
  });
  const bus = new RecordingBus('me');
  const hosts = new ConnectedHosts(config);
  /** A replica connected on this node: what the hub tells its listeners. */
  const connectLocal = (connection: FakeHostConnection, announce = true) => {
    hosts.opened(connection);
    hosts.serve(connection);
    if (announce) hosts.notify(connection, 'up');
  };
  for (const connection of options.local ?? []) connectLocal(connection, false);
  const presence = new HookedPresenceStore('me');
  for (const r of options.records ?? []) presence.claimElsewhere('inst', r.nodeId, r.name, r.state);
  const remote = new ScriptedRemoteChats(bus, options.remote ?? (() => answers), options.deadNodes ?? []);
  const table = new ReplicaTable('me');
  const metrics = new Metrics();
  const liveNodes = new LiveNodes(bus);
  const router = new ChatRouter(
    hosts,
    new OnlineInstances(presence, liveNodes),
    remote,
    bus,
    metrics,
    table,
    new ReplicaGossip(config, hosts, table, bus, liveNodes),
    config,
  );
  router.onModuleInit();
  const newChat = (): RoutedChat & { sink: RecordingSink } => ({
    instanceId: 'inst',
    requestId: `req-${Math.random()}`,
    hostBody: HOST_BODY,
    sink: new RecordingSink(),
    setCancel: () => {},
  });
  const chat = newChat();
  /** Until the caller got its end, then a little longer for anything that should not follow. */
  const settled = async (c = chat) => {
    await eventually(() => c.sink.isFinished, 3_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
  };
  const reroutes = async () => (await metrics.chatReroutes.get()).values[0]?.value ?? 0;
  return {
    router,
    chat,
    newChat,
    sentTo: remote.sentTo,
    settled,
    reroutes,
    connectLocal,
    presenceReads: () => presence.reads,
  };
}

describe('ChatRouter', () => {
  it('sends a chat to the replica with the most free capacity, here or on another node', async () => {
    const busy = localReplica('busy', answers, 2, 2);
    const t = setup({ local: [busy], records: [remoteRecord('far', 'b', 4, 1)] });
    await t.router.dispatch(t.chat);
    await t.settled();
    expect(t.sentTo).toEqual(['b:far']);
    expect(busy.started).toEqual([]);
    expect(t.chat.sink.events).toEqual(['a', 'done']);
  });

  it('prefers this node on a tie, and reads presence once for many chats', async () => {
    const near = localReplica('near', answers, 1, 0);
    const t = setup({ local: [near], records: [remoteRecord('far', 'b', 1, 0)] });
    for (let i = 0; i < 3; i++) {
      const chat = t.newChat();
      await t.router.dispatch(chat);
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
    await t.router.dispatch(first);
    await t.router.dispatch(second);
    // Both free at first; the second sees the first's replica busy and takes the other one.
    expect(new Set(t.sentTo).size).toBe(2);
    await eventually(() => t.sentTo.length === 2, 1_000);
    release();
  });

  it('moves a chat that failed before its first token to another replica', async () => {
    const gone = localReplica('gone', fails('host_disconnected'), 4, 0);
    const t = setup({ local: [gone], records: [remoteRecord('ok', 'b', 1, 0)] });
    await t.router.dispatch(t.chat);
    await t.settled();
    expect(gone.started).toHaveLength(1);
    expect(t.sentTo).toEqual(['b:ok']);
    expect(t.chat.sink.events).toEqual(['a', 'done']);
    expect(await t.reroutes()).toBe(1);
  });

  it('never runs a chat twice once a token reached the caller', async () => {
    const flaky = localReplica('flaky', startsThenFails('host_disconnected'), 4, 0);
    const t = setup({ local: [flaky], records: [remoteRecord('ok', 'b', 1, 0)] });
    await t.router.dispatch(t.chat);
    await t.settled();
    expect(t.sentTo).toEqual([]);
    expect(t.chat.sink.events).toEqual(['partial', 'error:host_disconnected']);
  });

  it('a replica that is full sends the chat to the next; all full is a 429, without waiting', async () => {
    const full = localReplica('full', fails('queue_full'), 1, 0);
    const t = setup({
      local: [full],
      records: [remoteRecord('alsoFull', 'b', 1, 0)],
      remote: () => fails('queue_full'),
    });
    await t.router.dispatch(t.chat);
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
    await t.router.dispatch(t.chat);
    await t.settled();
    expect(t.sentTo).toEqual(['b:only', 'b:only']);
    expect(t.chat.sink.events).toEqual(['a', 'done']);
  });

  it('a node nobody listens for loses its replicas, and the chat goes elsewhere', async () => {
    const t = setup({
      records: [remoteRecord('dead', 'd', 8, 0), remoteRecord('live', 'b', 1, 0)],
      deadNodes: ['d'],
    });
    await t.router.dispatch(t.chat);
    await t.settled();
    expect(t.sentTo).toEqual(['d:dead', 'b:live']);
    expect(t.chat.sink.events).toEqual(['a', 'done']);
  });

  it('holds a chat while no replica is connected and sends it to the first that connects', async () => {
    const t = setup({ distributed: false, env: { CHAT_HOLD_MS: '5000' } });
    expect(await t.router.admission('inst', Date.now())).toBe('hold');
    const dispatched = t.router.dispatch(t.chat);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(t.router.heldCount('inst')).toBe(1);
    const back = localReplica('back', answers);
    t.connectLocal(back);
    await dispatched;
    await t.settled();
    expect(t.chat.sink.events).toEqual(['a', 'done']);
    expect(t.router.heldCount('inst')).toBe(0);
  });

  it('a held chat whose replica never comes gets instance_offline when the hold ends', async () => {
    const t = setup({ distributed: false, env: { CHAT_HOLD_MS: '200' } });
    await t.router.dispatch(t.chat);
    await t.settled();
    expect(t.chat.sink.events).toEqual(['error:instance_offline']);
    expect(t.router.heldCount('inst')).toBe(0);
  });

  it('a chat whose only replica dropped before the first token waits for it to come back', async () => {
    const dropped = localReplica('r', fails('host_disconnected'));
    const t = setup({ distributed: false, local: [dropped], env: { CHAT_HOLD_MS: '5000' } });
    const dispatched = t.router.dispatch(t.chat);
    await eventually(() => t.router.heldCount('inst') === 1, 1_000);
    const again = new FakeHostConnection({ replica: 'r', epoch: 2, answer: answers });
    t.connectLocal(again);
    await dispatched;
    await t.settled();
    expect(t.chat.sink.events).toEqual(['a', 'done']);
  });

  it('admission: offline without a hold, hold_full past CHAT_HOLD_LIMIT', async () => {
    expect(
      await setup({ distributed: false, env: { CHAT_HOLD_MS: '0' } }).router.admission('inst', Date.now()),
    ).toBe('offline');
    const t = setup({ distributed: false, env: { CHAT_HOLD_MS: '5000', CHAT_HOLD_LIMIT: '1' } });
    void t.router.dispatch(t.chat);
    await eventually(() => t.router.heldCount('inst') === 1, 1_000);
    expect(await t.router.admission('inst', Date.now())).toBe('hold_full');
    t.connectLocal(localReplica('r', answers));
    await t.settled();
  });

  it('admission: an instance never connected, or not lately, is not waited for', async () => {
    const t = setup({ distributed: false, env: { CHAT_HOLD_MS: '5000', CHAT_HOLD_RECENT_MS: '60000' } });
    expect(await t.router.admission('inst', null)).toBe('offline');
    expect(await t.router.admission('inst', Date.now() - 61_000)).toBe('offline');
    expect(await t.router.admission('inst', Date.now() - 59_000)).toBe('hold');
  });

  it('admission: node_hold_full past CHAT_HOLD_NODE_LIMIT, whatever the instance', async () => {
    const t = setup({ distributed: false, env: { CHAT_HOLD_MS: '5000', CHAT_HOLD_NODE_LIMIT: '1' } });
    void t.router.dispatch(t.chat);
    await eventually(() => t.router.heldCount('inst') === 1, 1_000);
    expect(await t.router.admission('other', Date.now())).toBe('node_hold_full');
    t.connectLocal(localReplica('r', answers));
    await t.settled();
    expect(t.router.heldCount('inst')).toBe(0);
  });

  it('a draining replica gets no new chat while another can take it', async () => {
    const draining = localReplica('old', answers, 8, 0);
    draining.draining = true;
    const t = setup({ local: [draining], records: [remoteRecord('new', 'b', 1, 0)] });
    await t.router.dispatch(t.chat);
    await t.settled();
    expect(draining.started).toEqual([]);
    expect(t.sentTo).toEqual(['b:new']);
  });
});
