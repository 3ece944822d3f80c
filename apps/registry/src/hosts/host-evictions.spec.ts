import { CloseCodes } from '@app/protocol';
import { eventually } from '../../../../test/support/eventually';
import { HostSideTest, ME, NEW_HASH, OLD_HASH } from '../../../../test/doubles/host-side';

describe('HostEvictions', () => {
  const t = new HostSideTest();

  describe('evict requests from other nodes', () => {
    it('an evict naming a newer epoch retires the socket (4409); one naming an older epoch is ignored', async () => {
      const { host, connection } = await t.node.connect();
      const evict = (epoch: number) =>
        t.world.bus.deliver({
          kind: 'evict',
          from: 'other',
          instanceId: 'inst',
          epoch,
          reason: 'superseded',
        });
      evict(connection.epoch - 1);
      expect(t.node.hub.get('inst')).toBe(connection);
      evict(connection.epoch + 1);
      expect(t.node.hub.get('inst')).toBeUndefined();
      expect(await host.closed).toBe(CloseCodes.Superseded);
    });

    it('deleted closes the socket with 4404', async () => {
      const { host } = await t.node.connect();
      t.world.bus.deliver({ kind: 'evict', from: 'other', instanceId: 'inst', epoch: 0, reason: 'deleted' });
      expect(await host.closed).toBe(CloseCodes.Unregistered);
      await eventually(() => t.world.presence.ownerOf('inst') === undefined, 2_000);
    });

    it('rotated closes the sockets whose password is no longer the stored one (4401), and only those', async () => {
      await t.world.addInstance('inst2', OLD_HASH);
      const mine = await t.node.connect('inst', OLD_HASH);
      const other = await t.node.connect('inst2', OLD_HASH);
      const rotated = () =>
        t.world.bus.deliver({
          kind: 'evict',
          from: 'other',
          instanceId: 'inst',
          epoch: 0,
          reason: 'rotated',
        });
      rotated();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(mine.host.closeCode).toBeUndefined();
      expect(t.node.hub.get('inst')).toBe(mine.connection);

      await t.world.setPassword('inst', NEW_HASH);
      rotated();
      expect(await mine.host.closed).toBe(CloseCodes.CredentialsRotated);
      expect(t.node.hub.get('inst')).toBeUndefined();
      expect(other.host.closeCode).toBeUndefined();
    });
  });

  describe('instance events on this node', () => {
    it('rotated closes local sockets holding the old password (4401) and tells a remote owner', async () => {
      const { host } = await t.node.connect('inst', OLD_HASH);
      t.world.presence.claimElsewhere('inst', 'other', 'far');
      t.world.events.emit('rotated', { instanceId: 'inst', passwordHash: NEW_HASH });
      expect(await host.closed).toBe(CloseCodes.CredentialsRotated);
      await eventually(() => t.world.bus.sent.length === 1, 2_000);
      expect(t.world.bus.sent[0]).toEqual({
        to: 'other',
        message: { kind: 'evict', from: ME, instanceId: 'inst', epoch: 0, reason: 'rotated' },
      });
    });

    it('deleted closes the local socket with 4404; a socket held elsewhere gets an evict to its node', async () => {
      const { host } = await t.node.connect('inst');
      t.world.events.emit('deleted', { instanceId: 'inst' });
      expect(await host.closed).toBe(CloseCodes.Unregistered);
      t.world.presence.claimElsewhere('far', 'other');
      t.world.events.emit('deleted', { instanceId: 'far' });
      await eventually(() => t.world.bus.sent.length === 1, 2_000);
      expect(t.world.bus.sent[0].message).toMatchObject({
        kind: 'evict',
        instanceId: 'far',
        reason: 'deleted',
      });
    });
  });
});
