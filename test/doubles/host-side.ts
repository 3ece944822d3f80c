import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { LiveNodes } from '../../apps/registry/src/cluster/live-nodes';
import { loadConfig } from '../../apps/registry/src/config/app-config';
import { hashPassword } from '../../apps/registry/src/instances/credentials';
import { InstanceEvents } from '../../apps/registry/src/instances/instance-events';
import { ConnectedHosts } from '../../apps/registry/src/hosts/connected-hosts';
import { HeartbeatRecorder } from '../../apps/registry/src/hosts/heartbeat-recorder';
import { HostAcceptance } from '../../apps/registry/src/hosts/host-acceptance';
import type { HostConnection } from '../../apps/registry/src/hosts/host-connection';
import { HostEvictions } from '../../apps/registry/src/hosts/host-evictions';
import { HostPresence } from '../../apps/registry/src/hosts/host-presence';
import { InstanceHolding } from '../../apps/registry/src/hosts/instance-holding';
import { HookedPresenceStore } from './hooked-presence-store';
import { MemoryHoldersRepository, MemoryInstancesRepository } from './memory-repositories';
import { RecordingBus } from './recording-bus';

export const ME = 'me';
export const OLD_HASH = hashPassword('old');
export const NEW_HASH = hashPassword('new');

/** A host on the other end of a real socket: what close code it got. */
export interface Host {
  client: WebSocket;
  closed: Promise<number>;
  closeCode?: number;
}

/**
 * What a node's host side talks to, as doubles: presence, the bus, instance events, the database.
 * Instance `inst` exists with password hash `OLD_HASH`.
 */
export class HostSideWorld {
  readonly presence = new HookedPresenceStore(ME);
  readonly bus = new RecordingBus(ME);
  readonly events = new InstanceEvents();
  readonly holders = new MemoryHoldersRepository();
  readonly instances = new MemoryInstancesRepository(this.holders);
  private readonly server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  private readonly clients: WebSocket[] = [];

  async start(): Promise<this> {
    await new Promise((resolve) => this.server.once('listening', resolve));
    await this.addInstance('inst', OLD_HASH);
    return this;
  }

  async addInstance(id: string, passwordHash: Uint8Array<ArrayBuffer>): Promise<void> {
    await this.instances.create({ id, uploadName: id, passwordHash });
  }

  /** The instance's password changes in the database (null: it is deleted). */
  async setPassword(id: string, passwordHash: Uint8Array<ArrayBuffer> | null): Promise<void> {
    if (passwordHash) await this.instances.update(id, { passwordHash });
    else await this.instances.softDelete(id);
  }

  /** Opens a host socket; resolves with the client and the registry's end of it. */
  async open(): Promise<{ host: Host; socket: WebSocket }> {
    const serverSide = new Promise<WebSocket>((resolve) => this.server.once('connection', resolve));
    const { port } = this.server.address() as AddressInfo;
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    this.clients.push(client);
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
    return { host, socket: await serverSide };
  }

  async stop(): Promise<void> {
    for (const client of this.clients.splice(0)) client.terminate();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** One node's host side (hub, presence keeper, evictions, acceptance) wired as `HostsModule` wires it. */
export class HostSide {
  readonly hub: ConnectedHosts;
  readonly keeper: HostPresence;
  readonly evictions: HostEvictions;
  readonly acceptance: HostAcceptance;

  constructor(
    private readonly world: HostSideWorld,
    env: Record<string, string>,
  ) {
    const config = loadConfig({ NODE_ID: ME, ...env });
    const { presence, bus, events, instances, holders } = world;
    this.hub = new ConnectedHosts(config);
    const holding = new InstanceHolding(holders, events, config);
    this.keeper = new HostPresence(this.hub, presence, holding, instances, new LiveNodes(bus), config);
    this.evictions = new HostEvictions(this.hub, presence, bus, instances, events);
    const heartbeats = new HeartbeatRecorder(instances, config);
    this.acceptance = new HostAcceptance(
      this.hub,
      this.keeper,
      this.evictions,
      instances,
      heartbeats,
      config,
    );
  }

  async start(): Promise<this> {
    this.hub.onModuleInit();
    await this.keeper.onModuleInit();
    this.evictions.onModuleInit();
    return this;
  }

  async stop(): Promise<void> {
    await this.keeper.onModuleDestroy();
    this.evictions.onModuleDestroy();
    this.hub.onModuleDestroy();
  }

  /** A host connects with the password whose hash is `hash` (the upgrade authenticated it). */
  async connect(instanceId = 'inst', hash = OLD_HASH): Promise<{ host: Host; connection: HostConnection }> {
    const { host, socket } = await this.world.open();
    const connection = await this.acceptance.accept(socket, instanceId, '', hash);
    return { host, connection };
  }
}

/**
 * A fresh `HostSideWorld` and a started `HostSide` for each test of a `describe` (`t.world`,
 * `t.node`), stopped after it.
 */
export class HostSideTest {
  world!: HostSideWorld;
  node!: HostSide;

  constructor(env: Record<string, string> = { PRESENCE_TTL_MS: '3000', PRESENCE_REFRESH_MS: '100' }) {
    beforeEach(async () => {
      this.world = await new HostSideWorld().start();
      this.node = await new HostSide(this.world, env).start();
    });
    afterEach(async () => {
      await this.node.stop();
      await this.world.stop();
    });
  }

  /** This node stops; another with `env` starts over the same world. */
  async restart(env: Record<string, string>): Promise<HostSide> {
    await this.node.stop();
    this.node = await new HostSide(this.world, env).start();
    return this.node;
  }
}
