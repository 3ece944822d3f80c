import type { ClusterBus } from './cluster-bus';
import { FORGET_DEAD_NODE_MS, LiveNodes, RECENTLY_DEAD_MS } from './live-nodes';

/** A bus whose membership and liveness the test sets; counts the questions asked. */
function fakeBus() {
  const state = { members: ['me', 'b', 'c'], dead: new Set<string>(), failing: false, asked: [] as string[] };
  const forgotten: string[] = [];
  const bus = {
    nodeId: 'me',
    nodes: () =>
      state.failing ? Promise.reject(new Error('redis down')) : Promise.resolve([...state.members]),
    isNodeAlive: (nodeId: string) => {
      state.asked.push(nodeId);
      return Promise.resolve(!state.dead.has(nodeId));
    },
    forgetNode: (nodeId: string) => {
      forgotten.push(nodeId);
      state.members = state.members.filter((m) => m !== nodeId);
      return Promise.resolve();
    },
  };
  return { bus: bus as unknown as ClusterBus, state, forgotten };
}

describe('LiveNodes', () => {
  afterEach(() => jest.useRealTimers());

  it('checks each other member once per refresh; reads after that ask nothing', async () => {
    const { bus, state } = fakeBus();
    const live = new LiveNodes(bus);
    await live.refresh();
    expect(state.asked.sort()).toEqual(['b', 'c']);
    expect([...live.current].sort()).toEqual(['b', 'c', 'me']);
    state.asked = [];
    expect(await live.isAlive('b')).toBe(true);
    expect(await live.isAlive('me')).toBe(true);
    expect(state.asked).toEqual([]);
  });

  it('drops a node that stopped listening at the next refresh, and says it changed', async () => {
    const { bus, state } = fakeBus();
    const live = new LiveNodes(bus);
    await live.refresh();
    const changes: number[] = [];
    live.onChange(() => changes.push(live.version));
    state.dead.add('c');
    await live.refresh();
    expect([...live.current].sort()).toEqual(['b', 'me']);
    expect(await live.isAlive('c')).toBe(false);
    expect(changes).toHaveLength(1);
    await live.refresh();
    expect(changes).toHaveLength(1);
  });

  it('asks again about a node seen dead lately (resubscribing after a Redis restart), at most every 100 ms, for RECENTLY_DEAD_MS', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    const { bus, state } = fakeBus();
    const live = new LiveNodes(bus);
    await live.refresh();
    state.dead.add('c');
    await live.refresh();
    state.asked = [];
    expect(await live.isAlive('c')).toBe(false);
    expect(await live.isAlive('c')).toBe(false);
    expect(state.asked).toEqual(['c']);
    // Listening again before the next check: the next chat that needs it finds it alive.
    state.dead.delete('c');
    jest.advanceTimersByTime(150);
    expect(await live.isAlive('c')).toBe(true);
    expect([...live.current].sort()).toEqual(['b', 'c', 'me']);
    // A node dead for longer is not asked between checks.
    state.dead.add('c');
    await live.refresh();
    jest.advanceTimersByTime(RECENTLY_DEAD_MS + 1);
    state.asked = [];
    expect(await live.isAlive('c')).toBe(false);
    expect(state.asked).toEqual([]);
  });

  it('asks once about a node it has not seen yet (its hosts may show in presence first)', async () => {
    const { bus, state } = fakeBus();
    const live = new LiveNodes(bus);
    await live.refresh();
    state.asked = [];
    expect(await live.isAlive('new')).toBe(true);
    expect(await live.isAlive('new')).toBe(true);
    expect(state.asked).toEqual(['new']);
  });

  it('keeps its last answer while the membership cannot be read', async () => {
    const { bus, state } = fakeBus();
    const live = new LiveNodes(bus);
    await live.refresh();
    state.failing = true;
    state.dead.add('b');
    await live.refresh();
    expect([...live.current].sort()).toEqual(['b', 'c', 'me']);
  });

  it('forgets a node dead for FORGET_DEAD_NODE_MS, so what it left can be purged', async () => {
    jest.useFakeTimers({ now: 0, doNotFake: ['nextTick', 'setImmediate'] });
    const { bus, state, forgotten } = fakeBus();
    const live = new LiveNodes(bus);
    const purged: string[] = [];
    live.onForget((nodeId) => purged.push(nodeId));
    state.dead.add('c');
    await live.refresh();
    jest.advanceTimersByTime(FORGET_DEAD_NODE_MS - 1_000);
    await live.refresh();
    expect(forgotten).toEqual([]);
    jest.advanceTimersByTime(1_000);
    await live.refresh();
    expect(forgotten).toEqual(['c']);
    expect(purged).toEqual(['c']);
  });
});
