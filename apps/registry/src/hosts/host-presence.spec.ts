import { CloseCodes } from '@app/protocol';
import { eventually } from '../../../../test/support/eventually';
import { HostSide, HostSideWorld, ME, NEW_HASH, OLD_HASH } from '../../../../test/support/host-side';

describe('HostPresence', () => {
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

  describe('instance_holders (what the directory reads as online)', () => {
    it('writes the row before the presence claim, and deletes it when the last socket of the instance is gone', async () => {
      world.presence.onClaim = (instanceId) => world.holders.log.push(`claim ${instanceId}`);
      const first = await node.connect();
      expect(world.holders.log).toEqual(['hold inst', 'claim inst']);
      const second = await node.connect();
      expect(await first.host.closed).toBe(CloseCodes.Superseded);
      // The instance stayed held throughout: no release between the two connections.
      expect(world.holders.log.filter((l) => l.startsWith('release'))).toEqual([]);
      expect(world.holders.holds('inst', ME)).toBe(true);
      second.host.client.close();
      await eventually(() => !world.holders.holds('inst'), 2_000);
    });

    it('a host refused while being accepted (rotated password) leaves no row', async () => {
      await world.setPassword('inst', NEW_HASH);
      const { host } = await node.connect('inst', OLD_HASH);
      expect(await host.closed).toBe(CloseCodes.CredentialsRotated);
      await eventually(() => !world.holders.holds('inst'), 2_000);
    });

    it("a socket evicted by another node (taken over there) drops this node's row", async () => {
      const { host, connection } = await node.connect();
      world.bus.deliver({
        kind: 'evict',
        from: 'other',
        instanceId: 'inst',
        epoch: connection.epoch + 1,
        reason: 'superseded',
      });
      expect(await host.closed).toBe(CloseCodes.Superseded);
      await eventually(() => !world.holders.holds('inst'), 2_000);
    });

    it('a node stopping releases its claims and drops its rows', async () => {
      const { host } = await node.connect();
      await node.stop();
      expect(world.presence.ownerOf('inst')).toBeUndefined();
      expect(world.holders.holds('inst')).toBe(false);
      expect(await host.closed).toBe(CloseCodes.GoingAway);
    });
  });

  describe('refresh', () => {
    it('re-claims a record the store lost, keeping the socket', async () => {
      const { host, connection } = await node.connect();
      const first = connection.epoch;
      world.presence.forget('inst');
      await eventually(() => (world.presence.ownerOf('inst')?.epoch ?? 0) > first, 2_000);
      expect(world.presence.ownerOf('inst')).toEqual({ nodeId: ME, epoch: connection.epoch });
      expect(node.hub.get('inst')).toBe(connection);
      expect(host.closeCode).toBeUndefined();
    });

    it('yields to a newer owner on another node: the socket is retired (4409)', async () => {
      const { host } = await node.connect();
      const elsewhere = world.presence.claimElsewhere('inst', 'other');
      expect(await host.closed).toBe(CloseCodes.Superseded);
      expect(node.hub.get('inst')).toBeUndefined();
      expect(world.presence.ownerOf('inst')).toEqual({ nodeId: 'other', epoch: elsewhere });
    });

    it('re-claims at once when the store is back, without waiting for the next refresh', async () => {
      await node.stop();
      // A node whose refresh interval never comes within this test.
      node = await new HostSide(world, { PRESENCE_TTL_MS: '600000', PRESENCE_REFRESH_MS: '300000' }).start();
      const { connection } = await node.connect();
      const first = connection.epoch;
      world.presence.forgetAll();
      world.presence.restore();
      await eventually(() => (world.presence.ownerOf('inst')?.epoch ?? 0) > first, 1_000);
      expect(connection.epoch).toBe(world.presence.ownerOf('inst')?.epoch);
    });
  });
});
