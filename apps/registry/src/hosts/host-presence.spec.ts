import { CloseCodes } from '@app/protocol';
import { eventually } from '../../../../test/support/eventually';
import { HostSideTest, ME, NEW_HASH, OLD_HASH } from '../../../../test/doubles/host-side';

describe('HostPresence', () => {
  const t = new HostSideTest();

  describe('instance_holders (what the directory reads as online)', () => {
    it('writes the row before the presence claim, and deletes it when the last socket of the instance is gone', async () => {
      t.world.presence.onClaim = (instanceId) => t.world.holders.log.push(`claim ${instanceId}`);
      const first = await t.node.connect();
      expect(t.world.holders.log).toEqual(['hold inst', 'claim inst']);
      const second = await t.node.connect();
      expect(await first.host.closed).toBe(CloseCodes.Superseded);
      // The instance stayed held throughout: no release between the two connections.
      expect(t.world.holders.log.filter((l) => l.startsWith('release'))).toEqual([]);
      expect(t.world.holders.holds('inst', ME)).toBe(true);
      second.host.client.close();
      await eventually(() => !t.world.holders.holds('inst'), 2_000);
    });

    it('a host refused while being accepted (rotated password) leaves no row', async () => {
      await t.world.setPassword('inst', NEW_HASH);
      const { host } = await t.node.connect('inst', OLD_HASH);
      expect(await host.closed).toBe(CloseCodes.CredentialsRotated);
      await eventually(() => !t.world.holders.holds('inst'), 2_000);
    });

    it("a socket evicted by another node (taken over there) drops this node's row", async () => {
      const { host, connection } = await t.node.connect();
      t.world.bus.deliver({
        kind: 'evict',
        from: 'other',
        instanceId: 'inst',
        epoch: connection.epoch + 1,
        reason: 'superseded',
      });
      expect(await host.closed).toBe(CloseCodes.Superseded);
      await eventually(() => !t.world.holders.holds('inst'), 2_000);
    });

    it('a node stopping releases its claims and drops its rows', async () => {
      const { host } = await t.node.connect();
      await t.node.stop();
      expect(t.world.presence.ownerOf('inst')).toBeUndefined();
      expect(t.world.holders.holds('inst')).toBe(false);
      expect(await host.closed).toBe(CloseCodes.GoingAway);
    });
  });

  describe('refresh', () => {
    it('re-claims a record the store lost, keeping the socket', async () => {
      const { host, connection } = await t.node.connect();
      const first = connection.epoch;
      t.world.presence.forget('inst');
      await eventually(() => (t.world.presence.ownerOf('inst')?.epoch ?? 0) > first, 2_000);
      expect(t.world.presence.ownerOf('inst')).toEqual({ nodeId: ME, epoch: connection.epoch });
      expect(t.node.hub.get('inst')).toBe(connection);
      expect(host.closeCode).toBeUndefined();
    });

    it('yields to a newer owner on another node: the socket is retired (4409)', async () => {
      const { host } = await t.node.connect();
      const elsewhere = t.world.presence.claimElsewhere('inst', 'other');
      expect(await host.closed).toBe(CloseCodes.Superseded);
      expect(t.node.hub.get('inst')).toBeUndefined();
      expect(t.world.presence.ownerOf('inst')).toEqual({ nodeId: 'other', epoch: elsewhere });
    });

    it('re-claims at once when the store is back, without waiting for the next refresh', async () => {
      // A node whose refresh interval never comes within this test.
      await t.restart({ PRESENCE_TTL_MS: '600000', PRESENCE_REFRESH_MS: '300000' });
      const { connection } = await t.node.connect();
      const first = connection.epoch;
      t.world.presence.forgetAll();
      t.world.presence.restore();
      await eventually(() => (t.world.presence.ownerOf('inst')?.epoch ?? 0) > first, 1_000);
      expect(connection.epoch).toBe(t.world.presence.ownerOf('inst')?.epoch);
    });

    it('tells the other nodes of a re-claim as of a connect (the gossip carries the new epoch)', async () => {
      await t.restart({ PRESENCE_TTL_MS: '600000', PRESENCE_REFRESH_MS: '300000' });
      const { connection } = await t.node.connect();
      const changes: string[] = [];
      t.node.hub.onChange((c, change) => changes.push(`${change}:${c.epoch}`));
      t.world.presence.forgetAll();
      t.world.presence.restore();
      await eventually(() => changes.length > 0, 1_000);
      expect(changes).toEqual([`up:${connection.epoch}`]);
    });
  });
});
