import { CloseCodes } from '@app/protocol';
import { FakeHostConnection } from '../../../../test/doubles/fake-host-connection';
import { loadConfig } from '../config/app-config';
import { ConnectedHosts, ReplicaChange } from './connected-hosts';

describe('ConnectedHosts (the hub)', () => {
  let hub: ConnectedHosts;
  let changes: string[];
  let left: string[];

  beforeEach(() => {
    hub = new ConnectedHosts(loadConfig({}));
    changes = [];
    left = [];
    hub.onChange((c, change: ReplicaChange) => changes.push(`${change} ${c.slot}#${c.epoch}`));
    hub.onLeft((instanceId) => left.push(instanceId));
  });

  const connected = (replica: string, epoch = 1) => {
    const connection = new FakeHostConnection({ replica, epoch });
    hub.opened(connection);
    hub.serve(connection);
    return connection;
  };

  it('routes to the serving connection of each replica; a newer one in the slot retires the older (4409)', () => {
    const old = connected('r', 1);
    const other = connected('s', 1);
    const newer = connected('r', 2);
    expect(hub.get('inst/r')).toBe(newer);
    expect(hub.servingOf('inst')).toEqual([other, newer]);
    expect(old.isServing).toBe(false);
    expect(old.wire.closeCode).toBe(CloseCodes.Superseded);
    expect(hub.size).toBe(2);
    expect(hub.openCount).toBe(3);
  });

  it('holds an instance while it accepts or serves one of its sockets, and says when it holds none', async () => {
    let accepted!: (c: FakeHostConnection) => void;
    const accepting = hub.whileAccepting(
      'inst/r',
      'inst',
      new Promise<FakeHostConnection>((resolve) => (accepted = resolve)),
    );
    expect(hub.holds('inst')).toBe(true);
    const connection = new FakeHostConnection({ replica: 'r' });
    hub.opened(connection);
    hub.serve(connection);
    accepted(connection);
    await accepting;
    expect(left).toEqual([]);
    connected('s');
    hub.supersede(connection);
    expect(left).toEqual([]);
    hub.unserve(hub.get('inst/s')!);
    expect(hub.holds('inst')).toBe(false);
    expect(left).toEqual(['inst']);
  });

  it('a closed socket leaves routing; its listeners hear `down` only if it was serving', () => {
    const serving = connected('r');
    const retired = connected('s');
    hub.supersede(retired);
    changes = [];
    hub.closed(retired);
    hub.closed(serving);
    expect(changes).toEqual(['down inst/r#1']);
    expect(hub.openCount).toBe(0);
    expect(hub.servingOf('inst')).toEqual([]);
  });

  it('goaway: a host that said hello keeps serving for the handoff, a stock host is retired at once', () => {
    const agent = connected('agent');
    agent.saidHello = true;
    const stock = connected('stock');
    changes = [];
    hub.goawayAll('node draining', 60_000);
    expect(agent.wire.frames).toEqual([{ type: 'goaway', reason: 'node draining' }]);
    expect([agent.isServing, agent.draining]).toEqual([true, true]);
    expect(changes).toEqual(['load inst/agent#1']);
    expect(stock.isServing).toBe(false);
    expect(stock.wire.closeCode).toBe(CloseCodes.GoingAway);
    hub.terminateAll();
    expect(agent.wire.closeCode).toBe(CloseCodes.ServiceRestart);
  });
});
