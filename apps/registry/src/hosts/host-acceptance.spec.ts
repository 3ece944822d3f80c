import { CloseCodes } from '@app/protocol';
import { eventually } from '../../../../test/support/eventually';
import { HostSide, HostSideWorld, ME, NEW_HASH, OLD_HASH } from '../../../../test/support/host-side';

describe('HostAcceptance', () => {
  let world: HostSideWorld;
  let node: HostSide;

  beforeEach(async () => {
    world = await new HostSideWorld().start();
    node = await new HostSide(world, { PRESENCE_TTL_MS: '3000', PRESENCE_REFRESH_MS: '100' }).start();
  });

  afterEach(async () => {
    await node.stop();
    await world.stop();
  });

  it('claims presence for this node and serves the socket', async () => {
    const { connection } = await node.connect();
    expect(world.presence.ownerOf('inst')).toEqual({ nodeId: ME, epoch: connection.epoch });
    expect(connection.epoch).toBeGreaterThan(0);
    expect(node.hub.get('inst')).toBe(connection);
    expect(world.bus.sent).toEqual([]);
  });

  it('a newer local connection supersedes the older one (4409), whose close leaves the new claim alone', async () => {
    const first = await node.connect();
    const second = await node.connect();
    expect(await first.host.closed).toBe(CloseCodes.Superseded);
    expect(node.hub.get('inst')).toBe(second.connection);
    await eventually(() => node.hub.openCount === 1, 2_000);
    expect(second.connection.epoch).toBeGreaterThan(first.connection.epoch);
    expect(world.presence.ownerOf('inst')).toEqual({ nodeId: ME, epoch: second.connection.epoch });
    expect(second.host.closeCode).toBeUndefined();
  });

  it('taking over from another node tells that node to evict its older socket', async () => {
    const elsewhere = world.presence.claimElsewhere('inst', 'other');
    const { connection } = await node.connect();
    expect(connection.epoch).toBeGreaterThan(elsewhere);
    expect(world.bus.sent).toEqual([
      {
        to: 'other',
        message: {
          kind: 'evict',
          from: ME,
          instanceId: 'inst',
          epoch: connection.epoch,
          reason: 'superseded',
        },
      },
    ]);
  });

  it('a host that closed while its claim was being made releases that claim', async () => {
    let openGate!: () => void;
    world.presence.claimGate = new Promise((resolve) => (openGate = resolve));
    const { host, socket } = await world.open();
    const accepting = node.acceptance.accept(socket, 'inst', '', OLD_HASH);
    host.client.close();
    await new Promise((resolve) => socket.once('close', resolve));
    openGate();
    const connection = await accepting;
    expect(connection.isOpen).toBe(false);
    expect(world.presence.ownerOf('inst')).toBeUndefined();
    expect(node.hub.get('inst')).toBeUndefined();
  });

  it('a password rotated while the host was authenticating closes it with 4401 and releases the claim', async () => {
    await world.setPassword('inst', NEW_HASH);
    const { host } = await node.connect('inst', OLD_HASH);
    expect(await host.closed).toBe(CloseCodes.CredentialsRotated);
    expect(world.presence.ownerOf('inst')).toBeUndefined();
    expect(node.hub.get('inst')).toBeUndefined();
  });

  it('an instance deleted while the host was authenticating closes it with 4404', async () => {
    await world.setPassword('inst', null);
    const { host } = await node.connect('inst', OLD_HASH);
    expect(await host.closed).toBe(CloseCodes.Unregistered);
    expect(world.presence.ownerOf('inst')).toBeUndefined();
  });

  it('a replica over REPLICAS_PER_INSTANCE is refused (4429) and claims nothing', async () => {
    await node.stop();
    node = await new HostSide(world, { REPLICAS_PER_INSTANCE: '1' }).start();
    world.presence.claimElsewhere('inst', 'other', 'first');
    const { host, connection } = await node.connect();
    expect(await host.closed).toBe(CloseCodes.TooManyReplicas);
    expect(connection.epoch).toBe(0);
    expect(node.hub.get('inst')).toBeUndefined();
    await eventually(() => !world.holders.holds('inst'), 2_000);
  });
});
