/** The router over test doubles: this node's replicas in a real hub, others in presence, scripted answers. */
import type { ChatRequestBody } from '@app/protocol';
import { answers, FakeHostConnection, HostBehaviour } from './fake-host-connection';
import { HookedPresenceStore } from './hooked-presence-store';
import { RecordingBus } from './recording-bus';
import { RecordingSink } from './recording-sink';
import { eventually } from '../support/eventually';
import { LiveNodes } from '../../apps/registry/src/cluster/live-nodes';
import { loadConfig } from '../../apps/registry/src/config/app-config';
import type { ChatSink } from '../../apps/registry/src/contracts/chat-sink';
import { ConnectedHosts } from '../../apps/registry/src/hosts/connected-hosts';
import { Metrics } from '../../apps/registry/src/metrics/metrics';
import { OnlineInstances } from '../../apps/registry/src/presence/online-instances';
import { ReplicaGossip } from '../../apps/registry/src/replicas/replica-gossip';
import { ReplicaTable } from '../../apps/registry/src/replicas/replica-table';
import { ChatRouter } from '../../apps/registry/src/chat/chat-router';
import { ChatRoute, type ChatToRoute } from '../../apps/registry/src/chat/chat-route';
import { RemoteChatClient, RemoteReplica } from '../../apps/registry/src/chat/remote-chat.client';

export const HOST_BODY: ChatRequestBody = { messages: [], stream: true, temperature: 0.7, max_tokens: 16 };

/** A replica's socket on this node that behaves as told. */
export const localReplica = (name: string, answer: HostBehaviour, capacity = 1, load = 0) =>
  new FakeHostConnection({ replica: name, answer, capacity, load });

/** A replica another node holds, as presence records it. */
export const remoteRecord = (name: string, nodeId: string, capacity = 1, inFlight = 0) => ({
  name,
  nodeId,
  state: { capacity, inFlight },
});

/** Other nodes as the router reaches them: each chat answered as `answer` says; `deadNodes` listen to nothing. */
export class ScriptedRemoteChats extends RemoteChatClient {
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

  readonly cancelled: string[] = [];

  override cancel(requestId: string): void {
    this.cancelled.push(requestId);
  }
}

export function setup(
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
  const newChat = (instanceId = 'inst'): ChatToRoute & { sink: RecordingSink } => ({
    instanceId,
    requestId: `req-${Math.random()}`,
    hostBody: HOST_BODY,
    sink: new RecordingSink(),
  });
  /** Routes a chat as the relay does once it was admitted. */
  const dispatch = (c: ChatToRoute & { sink: RecordingSink }, route = new ChatRoute(c)) =>
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
  return {
    router,
    chat,
    newChat,
    dispatch,
    admit,
    table,
    remote,
    sentTo: remote.sentTo,
    settled,
    reroutes,
    connectLocal,
    hosts,
    presenceReads: () => presence.reads,
    presence,
    bus,
  };
}
