import { CloseCodes } from '@app/protocol';
import { eventually } from '../../../../test/support/eventually';
import { HostSideTest, ME, NEW_HASH, OLD_HASH } from '../../../../test/doubles/host-side';

describe('HostAcceptance', () => {
  const t = new HostSideTest();

  it('claims presence for this node and serves the socket', async () => {
    const { connection } = await t.node.connect();
    expect(t.world.presence.ownerOf('inst')).toEqual({ nodeId: ME, epoch: connection.epoch });
    expect(connection.epoch).toBeGreaterThan(0);
    expect(t.node.hub.get('inst')).toBe(connection);
    expect(t.world.bus.sent).toEqual([]);
  });

  it('a newer local connection supersedes the older one (4409), whose close leaves the new claim alone', async () => {
    const first = await t.node.connect();
    const second = await t.node.connect();
    expect(await first.host.closed).toBe(CloseCodes.Superseded);
    expect(t.node.hub.get('inst')).toBe(second.connection);
    await eventually(() => t.node.hub.openCount === 1, 2_000);
    expect(second.connection.epoch).toBeGreaterThan(first.connection.epoch);
    expect(t.world.presence.ownerOf('inst')).toEqual({ nodeId: ME, epoch: second.connection.epoch });
    expect(second.host.closeCode).toBeUndefined();
  });

  it('taking over from another node tells that node to evict its older socket', async () => {
    const elsewhere = t.world.presence.claimElsewhere('inst', 'other');
    const { connection } = await t.node.connect();
    expect(connection.epoch).toBeGreaterThan(elsewhere);
    expect(t.world.bus.sent).toEqual([
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
    t.world.presence.claimGate = new Promise((resolve) => (openGate = resolve));
    const { host, socket } = await t.world.open();
    const accepting = t.node.acceptance.accept(socket, 'inst', '', OLD_HASH);
    host.client.close();
    await new Promise((resolve) => socket.once('close', resolve));
    openGate();
    const connection = await accepting;
    expect(connection.isOpen).toBe(false);
    expect(t.world.presence.ownerOf('inst')).toBeUndefined();
    expect(t.node.hub.get('inst')).toBeUndefined();
  });

  it.each([
    ['a password rotated', CloseCodes.CredentialsRotated, NEW_HASH],
    ['an instance deleted', CloseCodes.Unregistered, null],
  ])('%s while the host was authenticating closes it (%d) and releases the claim', async (_, code, hash) => {
    await t.world.setPassword('inst', hash);
    const { host } = await t.node.connect('inst', OLD_HASH);
    expect(await host.closed).toBe(code);
    expect(t.world.presence.ownerOf('inst')).toBeUndefined();
    expect(t.node.hub.get('inst')).toBeUndefined();
  });

  it('a replica over REPLICAS_PER_INSTANCE is refused (4429) and claims nothing', async () => {
    await t.restart({ REPLICAS_PER_INSTANCE: '1' });
    t.world.presence.claimElsewhere('inst', 'other', 'first');
    const { host, connection } = await t.node.connect();
    expect(await host.closed).toBe(CloseCodes.TooManyReplicas);
    expect(connection.epoch).toBe(0);
    expect(t.node.hub.get('inst')).toBeUndefined();
    await eventually(() => !t.world.holders.holds('inst'), 2_000);
  });
});
