import { FakeHostConnection } from '../../../../test/doubles/fake-host-connection';
import { HookedPresenceStore } from '../../../../test/doubles/hooked-presence-store';
import { RecordingBus } from '../../../../test/doubles/recording-bus';
import { LiveNodes } from '../cluster/live-nodes';
import { loadConfig } from '../config/app-config';
import { ConnectedHosts } from '../hosts/connected-hosts';
import { OnlineInstances } from '../presence/online-instances';
import { ReplicaLiveState } from './replica-live-state';
import { ReplicaTable } from './replica-table';

describe('ReplicaLiveState (the load detail shows)', () => {
  const config = loadConfig({ NODE_ID: 'me' });
  const presence = new HookedPresenceStore('me');
  const hosts = new ConnectedHosts(config);
  const table = new ReplicaTable('me');
  const online = new OnlineInstances(presence, new LiveNodes(new RecordingBus('me')));
  new ReplicaLiveState(hosts, table, online, config).onModuleInit();

  it("shows this node's replicas as they are now, and other nodes' as gossip last said", async () => {
    const idle = { capacity: 1, inFlight: 0, connectedAt: 0, draining: false };
    const { epoch } = (await presence.claim('inst', 'here', idle, 0)) as { epoch: number };
    const here = new FakeHostConnection({ replica: 'here', epoch, capacity: 4, load: 3 });
    hosts.opened(here);
    hosts.serve(here);
    const far = presence.claimElsewhere('inst', 'b', 'far', { capacity: 2, inFlight: 0 });
    table.set('inst', await presence.replicas('inst'), 0);
    table.apply('b', [
      {
        instanceId: 'inst',
        replica: 'far',
        slot: 'inst/far',
        epoch: far,
        capacity: 2,
        inFlight: 2,
        state: 1,
      },
    ]);

    const replicas = await online.replicas('inst');
    expect(replicas.map((r) => [r.replica, r.capacity, r.inFlight, r.draining])).toEqual([
      ['here', 4, 3, false],
      ['far', 2, 2, true],
    ]);
  });

  it('keeps what presence says of a connection this node no longer has in that slot', async () => {
    presence.claimElsewhere('gone', 'me', '', { capacity: 5, inFlight: 1 });
    const [record] = await online.replicas('gone');
    expect([record.capacity, record.inFlight]).toEqual([5, 1]);
  });
});
