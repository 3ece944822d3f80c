import { answers, fails, startsThenFails } from '../../../../test/doubles/fake-host-connection';
import { localReplica, remoteRecord, setup } from '../../../../test/doubles/chat-router-fixture';
import { eventually } from '../../../../test/support/eventually';
import { ChatRoute } from './chat-route';

describe('ChatRouter: choosing a replica, failover, cancel', () => {
  it('sends a chat to the replica with the most free capacity, here or on another node', async () => {
    const busy = localReplica('busy', answers, 2, 2);
    const t = setup({ local: [busy], records: [remoteRecord('far', 'b', 4, 1)] });
    await t.dispatch(t.chat);
    await t.settled();
    expect(t.sentTo).toEqual(['b:far']);
    expect(busy.started).toEqual([]);
    expect(t.chat.sink.events).toEqual(['a', 'done']);
  });

  it('prefers this node on a tie, and reads presence once for many chats', async () => {
    const near = localReplica('near', answers, 1, 0);
    const t = setup({ local: [near], records: [remoteRecord('far', 'b', 1, 0)] });
    for (let i = 0; i < 3; i++) {
      const chat = t.newChat();
      await t.dispatch(chat);
      await t.settled(chat);
    }
    expect(near.started).toHaveLength(3);
    expect(t.sentTo).toEqual([]);
    expect(t.presenceReads()).toBe(1);
  });

  it('counts the chats it has sent to a remote replica as its load until they end', async () => {
    let release: () => void = () => undefined;
    const t = setup({
      records: [remoteRecord('x', 'b', 1, 0), remoteRecord('y', 'c', 1, 0)],
      remote: () => (sink) => (release = () => answers(sink)),
    });
    const first = t.newChat();
    const second = t.newChat();
    await t.dispatch(first);
    await t.dispatch(second);
    // Both free at first; the second sees the first's replica busy and takes the other one.
    expect(new Set(t.sentTo).size).toBe(2);
    await eventually(() => t.sentTo.length === 2, 1_000);
    release();
  });

  it('moves a chat that failed before its first token to another replica', async () => {
    const gone = localReplica('gone', fails('host_disconnected'), 4, 0);
    const t = setup({ local: [gone], records: [remoteRecord('ok', 'b', 1, 0)] });
    await t.dispatch(t.chat);
    await t.settled();
    expect(gone.started).toHaveLength(1);
    expect(t.sentTo).toEqual(['b:ok']);
    expect(t.chat.sink.events).toEqual(['a', 'done']);
    expect(await t.reroutes()).toBe(1);
  });

  it('never runs a chat twice once a token reached the caller', async () => {
    const flaky = localReplica('flaky', startsThenFails('host_disconnected'), 4, 0);
    const t = setup({ local: [flaky], records: [remoteRecord('ok', 'b', 1, 0)] });
    await t.dispatch(t.chat);
    await t.settled();
    expect(t.sentTo).toEqual([]);
    expect(t.chat.sink.events).toEqual(['partial', 'error:host_disconnected']);
  });

  it('a replica that is full sends the chat to the next; all full is a 429, without waiting', async () => {
    const full = localReplica('full', fails('queue_full'), 1, 0);
    const t = setup({
      local: [full],
      records: [remoteRecord('alsoFull', 'b', 1, 0)],
      remote: () => fails('queue_full'),
    });
    await t.dispatch(t.chat);
    await t.settled();
    expect(full.started).toHaveLength(1);
    expect(t.sentTo).toEqual(['b:alsoFull']);
    expect(t.chat.sink.events).toEqual(['error:queue_full']);
  });

  it('a replica out of reach for a moment (node_unreachable) is tried again after a wait, not given up', async () => {
    let calls = 0;
    const t = setup({
      records: [remoteRecord('only', 'b', 1, 0)],
      remote: () => (++calls === 1 ? fails('node_unreachable') : answers),
      env: { CHAT_HOLD_MS: '5000' },
    });
    await t.dispatch(t.chat);
    await t.settled();
    expect(t.sentTo).toEqual(['b:only', 'b:only']);
    expect(t.chat.sink.events).toEqual(['a', 'done']);
  });

  it('a node nobody listens for loses its replicas, and the chat goes elsewhere', async () => {
    const t = setup({
      records: [remoteRecord('dead', 'd', 8, 0), remoteRecord('live', 'b', 1, 0)],
      deadNodes: ['d'],
    });
    await t.dispatch(t.chat);
    await t.settled();
    expect(t.sentTo).toEqual(['d:dead', 'b:live']);
    expect(t.chat.sink.events).toEqual(['a', 'done']);
  });

  it('a draining replica gets no new chat while another can take it', async () => {
    const draining = localReplica('old', answers, 8, 0);
    draining.draining = true;
    const t = setup({ local: [draining], records: [remoteRecord('new', 'b', 1, 0)] });
    await t.dispatch(t.chat);
    await t.settled();
    expect(draining.started).toEqual([]);
    expect(t.sentTo).toEqual(['b:new']);
  });

  it('admission finds the candidates of the first attempt: the list is built once for it', async () => {
    const t = setup({ records: [remoteRecord('far', 'b')] });
    const admission = await t.router.admission(t.chat, Date.now());
    expect(admission.kind).toBe('route');
    const reads = jest.spyOn(t.table, 'get');
    if (admission.kind === 'route') await t.dispatch(t.chat, admission.route);
    await t.settled();
    expect(t.sentTo).toEqual(['b:far']);
    expect(reads).not.toHaveBeenCalled();
  });

  it("the route's cancel reaches the replica the chat is on, here or on another node", async () => {
    const silent = localReplica('silent', () => undefined);
    const here = setup({ local: [silent] });
    const route = new ChatRoute(here.chat);
    await here.dispatch(here.chat, route);
    route.cancel();
    expect(silent.cancelled).toEqual([here.chat.requestId]);

    const far = setup({ records: [remoteRecord('far', 'b')], remote: () => () => undefined });
    const remoteRoute = new ChatRoute(far.chat);
    await far.dispatch(far.chat, remoteRoute);
    await eventually(() => far.sentTo.length === 1, 1_000);
    remoteRoute.cancel();
    expect(far.remote.cancelled).toEqual([far.chat.requestId]);
  });
});
