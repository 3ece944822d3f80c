import type { ReplicaRecord } from '../presence/presence.store';
import { ReplicaTable, ReplicaUpdate } from './replica-table';

const record = (replica: string, nodeId: string, epoch = 1, inFlight = 0): ReplicaRecord => ({
  instanceId: 'inst',
  replica,
  nodeId,
  epoch,
  capacity: 2,
  inFlight,
  connectedAt: 0,
  draining: false,
});

const update = (replica: string, epoch: number, inFlight: number, state: 0 | 1 | 2): ReplicaUpdate => ({
  instanceId: 'inst',
  replica,
  slot: `inst/${replica}`,
  epoch,
  capacity: 2,
  inFlight,
  state,
});

const names = (table: ReplicaTable) =>
  [...(table.get('inst')?.replicas ?? [])]
    .map((r) => `${r.replica}@${r.nodeId}#${r.epoch}:${r.inFlight}${r.draining ? 'D' : ''}`)
    .sort();

describe('ReplicaTable', () => {
  it('keeps other nodes’ replicas, never its own', () => {
    const table = new ReplicaTable('me');
    table.set('inst', [record('a', 'b'), record('mine', 'me')], 0);
    expect(names(table)).toEqual(['a@b#1:0']);
  });

  it('gossip updates load and draining, adds a new connection and removes a gone one, for known instances only', () => {
    const table = new ReplicaTable('me');
    table.set('inst', [record('a', 'b')], 0);
    expect(table.apply('b', [update('a', 1, 2, 0)])).toEqual([]);
    expect(names(table)).toEqual(['a@b#1:2']);
    expect(table.apply('c', [update('x', 1, 0, 0)])).toEqual(['inst']);
    table.apply('b', [update('a', 1, 2, 1)]);
    expect(names(table)).toEqual(['a@b#1:2D', 'x@c#1:0']);
    table.apply('c', [update('x', 1, 0, 2)]);
    expect(names(table)).toEqual(['a@b#1:2D']);
    // An instance this node never routed to is not tracked.
    table.apply('b', [{ ...update('z', 1, 0, 0), instanceId: 'other', slot: 'other/z' }]);
    expect(table.get('other')).toBeUndefined();
  });

  it('a late word about an older connection changes nothing; a newer connection replaces it', () => {
    const table = new ReplicaTable('me');
    table.set('inst', [record('a', 'b', 3)], 0);
    table.apply('b', [update('a', 2, 9, 2)]);
    expect(names(table)).toEqual(['a@b#3:0']);
    table.apply('c', [update('a', 4, 1, 0)]);
    expect(names(table)).toEqual(['a@c#4:1']);
  });

  it('a fresh read keeps the gossiped load of a connection it already knew', () => {
    const table = new ReplicaTable('me');
    table.set('inst', [record('a', 'b')], 0);
    table.apply('b', [update('a', 1, 5, 0)]);
    table.set('inst', [record('a', 'b', 1, 0)], 10);
    expect(names(table)).toEqual(['a@b#1:5']);
    table.set('inst', [record('a', 'b', 2, 0)], 20);
    expect(names(table)).toEqual(['a@b#2:0']);
  });

  it('forget and dropNode take replicas out of routing', () => {
    const table = new ReplicaTable('me');
    table.set('inst', [record('a', 'b'), record('c', 'c'), record('d', 'c')], 0);
    table.forget('inst', 'inst/a', 2);
    expect(names(table)).toHaveLength(3);
    table.forget('inst', 'inst/a', 1);
    expect([...table.nodes()]).toEqual(['c']);
    table.dropNode('c');
    expect(names(table)).toEqual([]);
  });

  it('gossip carries the model status: a model back counts as a gained replica; an older node’s word leaves it alone', () => {
    const table = new ReplicaTable('me');
    table.set('inst', [record('a', 'b')], 0);
    const status = () => [...table.get('inst')!.replicas][0].modelStatus;
    expect(table.apply('b', [{ ...update('a', 1, 0, 0), modelStatus: 'unreachable' }])).toEqual([]);
    expect(status()).toBe('unreachable');
    expect(table.apply('b', [update('a', 1, 1, 0)])).toEqual([]);
    expect(status()).toBe('unreachable');
    expect(table.apply('b', [{ ...update('a', 1, 0, 0), modelStatus: 'ok' }])).toEqual(['inst']);
    expect(table.apply('c', [{ ...update('x', 1, 0, 0), modelStatus: 'error' }])).toEqual([]);
  });

  it('a fresh read that says a model is up is believed over a gossiped "down" (a lost message must not keep it out)', () => {
    const table = new ReplicaTable('me');
    table.set('inst', [record('a', 'b')], 0);
    table.apply('b', [{ ...update('a', 1, 0, 0), modelStatus: 'error' }]);
    table.set('inst', [{ ...record('a', 'b'), modelStatus: 'ok' }], 10);
    expect([...table.get('inst')!.replicas][0].modelStatus).toBe('ok');
  });
});
