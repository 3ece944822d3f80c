import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { CloseCodes, type NodeReplyMessage, type NodeRequestMessage } from '@app/protocol';
import { eventually } from '../../../../test/support/eventually';
import { ClusterBus, type ClusterBusStats } from '../cluster/cluster-bus';
import { loadConfig } from '../config/app-config';
import { hashPassword } from '../instances/credentials';
import { InstanceEvents } from '../instances/instance-events';
import type { InstancesRepository } from '../instances/instances.repository';
import {
  HeldReplica,
  PresenceOwner,
  PresenceStore,
  ReplicaRecord,
  ReplicaState,
  replicaSlot,
  slotInstance,
} from '../presence/presence.store';
import type { LiveNodes } from '../cluster/live-nodes';
import type { InstanceHoldersRepository } from '../instances/instance-holders.repository';
import { ConnectedHosts } from './connected-hosts';
import type { HeartbeatRecorder } from './heartbeat-recorder';
import { InstanceHolding } from './instance-holding';

const ME = 'me';

/** Presence as Redis keeps it (records and epochs, by slot), which tests may change behind the node's back. */
class FakePresence extends PresenceStore {
  readonly records = new Map<string, PresenceOwner>();
  private readonly epochs = new Map<string, number>();
  /** Resolves each claim once this promise does (a slow Redis). */
  claimGate: Promise<void> = Promise.resolve();
  restored?: () => void;

  async claim(instanceId: string, replica: string, _state: ReplicaState, maxReplicas: number) {
    await this.claimGate;
    const slot = replicaSlot(instanceId, replica);
    const others = [...this.records.keys()].filter((k) => slotInstance(k) === instanceId && k !== slot);
    if (maxReplicas > 0 && others.length >= maxReplicas) return { tooMany: true as const };
    const epoch = (this.epochs.get(slot) ?? 0) + 1;
    this.epochs.set(slot, epoch);
    const previous = this.records.get(slot) ?? null;
    this.records.set(slot, { nodeId: ME, epoch });
    return { epoch, previous };
  }

  /** Another node's claim: a newer epoch there. */
  claimElsewhere(instanceId: string, nodeId: string, replica = ''): number {
    const slot = replicaSlot(instanceId, replica);
    const epoch = (this.epochs.get(slot) ?? 0) + 1;
    this.epochs.set(slot, epoch);
    this.records.set(slot, { nodeId, epoch });
    return epoch;
  }

  release(instanceId: string, replica: string, epoch: number) {
    const slot = replicaSlot(instanceId, replica);
    const current = this.records.get(slot);
    if (current?.nodeId !== ME || current.epoch !== epoch) return Promise.resolve(false);
    this.records.delete(slot);
    return Promise.resolve(true);
  }

  refresh(held: ReadonlyMap<string, HeldReplica>) {
    const lost = [...held].filter(([slot, { epoch }]) => {
      const record = this.records.get(slot);
      return record?.nodeId !== ME || record.epoch !== epoch;
    });
    return Promise.resolve(lost.map(([slot]) => slot));
  }

  owner(instanceId: string, replica = '') {
    return Promise.resolve(this.records.get(replicaSlot(instanceId, replica)) ?? null);
  }

  replicas(instanceId: string): Promise<ReplicaRecord[]> {
    const records = [...this.records]
      .filter(([slot]) => slotInstance(slot) === instanceId)
      .map(([slot, owner]) => ({
        instanceId,
        replica: slot === instanceId ? '' : slot.slice(instanceId.length + 1),
        ...owner,
        capacity: 1,
        inFlight: 0,
        connectedAt: 0,
        draining: false,
      }));
    return Promise.resolve(records);
  }

  onRestored(handler: () => void) {
    this.restored = handler;
  }

  close() {
    return Promise.resolve();
  }
}

/** A bus that records what this node sends and lets a test deliver requests from other nodes. */
class FakeBus extends ClusterBus {
  readonly nodeId = ME;
  readonly connected = true;
  readonly stats: ClusterBusStats = { malformed: 0, publishFailures: 0, undelivered: 0, handlerErrors: 0 };
  readonly sent: Array<{ to: string; message: NodeRequestMessage }> = [];

  sendRequest(to: string, message: NodeRequestMessage) {
    this.sent.push({ to, message });
    return Promise.resolve(true);
  }
  sendReply(_to: string, _message: NodeReplyMessage) {
    return Promise.resolve(true);
  }
  onReply() {}
  onDisconnect() {}
  isNodeAlive() {
    return Promise.resolve(true);
  }
  nodes() {
    return Promise.resolve([ME]);
  }
  forgetNode() {
    return Promise.resolve();
  }
  broadcast() {
    return Promise.resolve();
  }
  ping() {
    return Promise.resolve();
  }
  close() {
    return Promise.resolve();
  }
  deliver(message: NodeRequestMessage) {
    this.deliverRequest(message);
  }
}

/** A host on the other end of a real socket: what close code it got. */
interface Host {
  client: WebSocket;
  closed: Promise<number>;
  closeCode?: number;
}

describe('ConnectedHosts', () => {
  let server: WebSocketServer;
  let port: number;
  let presence: FakePresence;
  let bus: FakeBus;
  let events: InstanceEvents;
  let hosts: ConnectedHosts;
  /** The instance's password hash as the database holds it (null: deleted). */
  let stored: Map<string, Uint8Array | null>;
  /** instance_holders as this node writes it, and the order of writes and claims. */
  let held: Set<string>;
  let log: string[];
  const clients: WebSocket[] = [];
  const oldHash = hashPassword('old');
  const newHash = hashPassword('new');

  beforeEach(async () => {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as AddressInfo).port;
    presence = new FakePresence();
    bus = new FakeBus();
    events = new InstanceEvents();
    stored = new Map([['inst', oldHash]]);
    held = new Set();
    log = [];
    hosts = startHosts({ PRESENCE_TTL_MS: '3000', PRESENCE_REFRESH_MS: '100' });
  });

  afterEach(async () => {
    await hosts.onModuleDestroy();
    for (const client of clients.splice(0)) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  });

  /** A node's ConnectedHosts over the fakes, started. */
  function startHosts(env: Record<string, string>): ConnectedHosts {
    const instances = {
      markConnected: () => Promise.resolve(),
      setHostModels: () => Promise.resolve(),
      passwordHash: (id: string) => Promise.resolve(stored.get(id) ?? null),
    };
    const heartbeats = { record: () => undefined };
    // This node's own record: a late close of an earlier test's node must not write into this one.
    const [ourHeld, ourLog] = [held, log];
    const holders = {
      hold: (id: string) => {
        ourHeld.add(id);
        ourLog.push(`hold ${id}`);
        return Promise.resolve();
      },
      release: (id: string) => {
        ourHeld.delete(id);
        ourLog.push(`release ${id}`);
        return Promise.resolve();
      },
      resync: () => Promise.resolve(),
      purgeNode: () => Promise.resolve(),
    };
    const config = loadConfig(env);
    const liveNodes = { onForget: () => undefined };
    const started = new ConnectedHosts(
      presence,
      bus,
      instances as unknown as InstancesRepository,
      heartbeats as unknown as HeartbeatRecorder,
      events,
      new InstanceHolding(holders as unknown as InstanceHoldersRepository, events, config),
      liveNodes as unknown as LiveNodes,
      config,
    );
    void started.onModuleInit();
    return started;
  }

  /** Opens a host socket and hands its server end to `accept` (the upgrade authenticated it with `hash`). */
  async function connect(instanceId = 'inst', hash = oldHash) {
    const serverSide = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    clients.push(client);
    const host: Host = {
      client,
      closed: new Promise((resolve) =>
        client.on('close', (code) => {
          host.closeCode = code;
          resolve(code);
        }),
      ),
    };
    await new Promise((resolve) => client.once('open', resolve));
    const connection = await hosts.accept(await serverSide, instanceId, '', hash);
    return { host, connection };
  }

  describe('accept', () => {
    it('claims presence for this node and serves the socket', async () => {
      const { connection } = await connect();
      expect(presence.records.get('inst')).toEqual({ nodeId: ME, epoch: 1 });
      expect(connection.epoch).toBe(1);
      expect(hosts.get('inst')).toBe(connection);
      expect(bus.sent).toEqual([]);
    });

    it('a newer local connection supersedes the older one (4409), whose close leaves the new claim alone', async () => {
      const first = await connect();
      const second = await connect();
      expect(await first.host.closed).toBe(CloseCodes.Superseded);
      expect(hosts.get('inst')).toBe(second.connection);
      await eventually(() => hosts.openCount === 1, 2_000);
      expect(presence.records.get('inst')).toEqual({ nodeId: ME, epoch: 2 });
      expect(second.host.closeCode).toBeUndefined();
    });

    it('taking over from another node tells that node to evict its older socket', async () => {
      presence.claimElsewhere('inst', 'other');
      const { connection } = await connect();
      expect(connection.epoch).toBe(2);
      expect(bus.sent).toEqual([
        {
          to: 'other',
          message: { kind: 'evict', from: ME, instanceId: 'inst', epoch: 2, reason: 'superseded' },
        },
      ]);
    });

    it('a host that closed while its claim was being made releases that claim', async () => {
      let openGate!: () => void;
      presence.claimGate = new Promise((resolve) => (openGate = resolve));
      const serverSide = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
      const client = new WebSocket(`ws://127.0.0.1:${port}`);
      clients.push(client);
      await new Promise((resolve) => client.once('open', resolve));
      const socket = await serverSide;
      const accepting = hosts.accept(socket, 'inst', '', oldHash);
      client.close();
      await new Promise((resolve) => socket.once('close', resolve));
      openGate();
      const connection = await accepting;
      expect(connection.isOpen).toBe(false);
      expect(presence.records.has('inst')).toBe(false);
      expect(hosts.get('inst')).toBeUndefined();
    });

    it('a password rotated while the host was authenticating closes it with 4401 and releases the claim', async () => {
      stored.set('inst', newHash);
      const { host } = await connect('inst', oldHash);
      expect(await host.closed).toBe(CloseCodes.CredentialsRotated);
      expect(presence.records.has('inst')).toBe(false);
      expect(hosts.get('inst')).toBeUndefined();
    });
  });

  describe('instance_holders (what the directory reads as online)', () => {
    it('writes the row before the presence claim, and deletes it when the last socket of the instance is gone', async () => {
      const claim = presence.claim.bind(presence);
      presence.claim = (...args) => {
        log.push(`claim ${args[0]}`);
        return claim(...args);
      };
      const first = await connect();
      expect(log).toEqual(['hold inst', 'claim inst']);
      const second = await connect();
      expect(await first.host.closed).toBe(CloseCodes.Superseded);
      // The instance stayed held throughout: no release between the two connections.
      expect(log.filter((l) => l.startsWith('release'))).toEqual([]);
      expect(held.has('inst')).toBe(true);
      second.host.client.close();
      await eventually(() => !held.has('inst'), 2_000);
    });

    it('a host refused while being accepted (rotated password) leaves no row', async () => {
      stored.set('inst', newHash);
      const { host } = await connect('inst', oldHash);
      expect(await host.closed).toBe(CloseCodes.CredentialsRotated);
      await eventually(() => !held.has('inst'), 2_000);
    });

    it("a socket evicted by another node (taken over there) drops this node's row", async () => {
      const { host } = await connect();
      bus.deliver({ kind: 'evict', from: 'other', instanceId: 'inst', epoch: 2, reason: 'superseded' });
      expect(await host.closed).toBe(CloseCodes.Superseded);
      await eventually(() => !held.has('inst'), 2_000);
    });
  });

  describe('evict requests from other nodes', () => {
    it('an evict naming a newer epoch retires the socket (4409); one naming an older epoch is ignored', async () => {
      const { host, connection } = await connect();
      bus.deliver({ kind: 'evict', from: 'other', instanceId: 'inst', epoch: 0, reason: 'superseded' });
      expect(hosts.get('inst')).toBe(connection);
      bus.deliver({ kind: 'evict', from: 'other', instanceId: 'inst', epoch: 2, reason: 'superseded' });
      expect(hosts.get('inst')).toBeUndefined();
      expect(await host.closed).toBe(CloseCodes.Superseded);
    });

    it('deleted closes the socket with 4404', async () => {
      const { host } = await connect();
      bus.deliver({ kind: 'evict', from: 'other', instanceId: 'inst', epoch: 1, reason: 'deleted' });
      expect(await host.closed).toBe(CloseCodes.Unregistered);
      await eventually(() => !presence.records.has('inst'), 2_000);
    });

    it('rotated closes the sockets whose password is no longer the stored one (4401), and only those', async () => {
      stored.set('inst2', oldHash);
      const mine = await connect('inst', oldHash);
      const other = await connect('inst2', oldHash);
      bus.deliver({ kind: 'evict', from: 'other', instanceId: 'inst', epoch: 1, reason: 'rotated' });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(mine.host.closeCode).toBeUndefined();
      expect(hosts.get('inst')).toBe(mine.connection);

      stored.set('inst', newHash);
      bus.deliver({ kind: 'evict', from: 'other', instanceId: 'inst', epoch: 1, reason: 'rotated' });
      expect(await mine.host.closed).toBe(CloseCodes.CredentialsRotated);
      expect(hosts.get('inst')).toBeUndefined();
      expect(other.host.closeCode).toBeUndefined();
    });
  });

  describe('instance events on this node', () => {
    it('rotated closes local sockets holding the old password (4401) and tells a remote owner', async () => {
      const { host } = await connect('inst', oldHash);
      presence.claimElsewhere('inst', 'other');
      events.emit('rotated', { instanceId: 'inst', passwordHash: newHash });
      expect(await host.closed).toBe(CloseCodes.CredentialsRotated);
      await eventually(() => bus.sent.length === 1, 2_000);
      expect(bus.sent[0]).toEqual({
        to: 'other',
        message: { kind: 'evict', from: ME, instanceId: 'inst', epoch: 0, reason: 'rotated' },
      });
    });

    it('deleted closes the local socket with 4404; a socket held elsewhere gets an evict to its node', async () => {
      const { host } = await connect('inst');
      events.emit('deleted', { instanceId: 'inst' });
      expect(await host.closed).toBe(CloseCodes.Unregistered);
      presence.claimElsewhere('far', 'other');
      events.emit('deleted', { instanceId: 'far' });
      await eventually(() => bus.sent.length === 1, 2_000);
      expect(bus.sent[0].message).toMatchObject({ kind: 'evict', instanceId: 'far', reason: 'deleted' });
    });
  });

  describe('presence refresh', () => {
    it('re-claims a record the store lost, keeping the socket', async () => {
      const { host, connection } = await connect();
      presence.records.delete('inst');
      await eventually(() => presence.records.get('inst')?.epoch === 2, 2_000);
      expect(connection.epoch).toBe(2);
      expect(hosts.get('inst')).toBe(connection);
      expect(host.closeCode).toBeUndefined();
    });

    it('yields to a newer owner on another node: the socket is retired (4409)', async () => {
      const { host } = await connect();
      presence.claimElsewhere('inst', 'other');
      expect(await host.closed).toBe(CloseCodes.Superseded);
      expect(hosts.get('inst')).toBeUndefined();
      expect(presence.records.get('inst')).toEqual({ nodeId: 'other', epoch: 2 });
    });

    it('onRestored re-claims at once, without waiting for the next refresh', async () => {
      await hosts.onModuleDestroy();
      // A node whose refresh interval never comes within this test.
      hosts = startHosts({ PRESENCE_TTL_MS: '600000', PRESENCE_REFRESH_MS: '300000' });
      const { connection } = await connect();
      presence.records.clear();
      presence.restored!();
      await eventually(() => presence.records.get('inst')?.epoch === 2, 1_000);
      expect(connection.epoch).toBe(2);
    });
  });
});
