import { CHAT_FAILURE_CODES } from '@app/protocol';
import { answers, FakeHostConnection, fails } from '../../../../test/doubles/fake-host-connection';
import { localReplica, setup } from '../../../../test/doubles/chat-router-fixture';
import { eventually } from '../../../../test/support/eventually';
import { ChatRoute } from './chat-route';
import { CHAT_FAILURES } from './chat-failures';

describe('ChatRouter: holds, admission, and the failure table', () => {
  it('holds a chat while no replica is connected and sends it to the first that connects', async () => {
    const t = setup({ distributed: false, env: { CHAT_HOLD_MS: '5000' } });
    expect(await t.admit(Date.now())).toBe('hold');
    const dispatched = t.dispatch(t.chat);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(t.router.heldCount('inst')).toBe(1);
    const back = localReplica('back', answers);
    t.connectLocal(back);
    await dispatched;
    await t.settled();
    expect(t.chat.sink.events).toEqual(['a', 'done']);
    expect(t.router.heldCount('inst')).toBe(0);
  });

  it('when its node is reconnected (e.g. Redis came back), a held chat reads presence again at once', async () => {
    // Another node re-claimed the replica while this node's subscription was down: no gossip came.
    const t = setup({ env: { CHAT_HOLD_MS: '5000' } });
    const dispatched = t.dispatch(t.chat);
    await eventually(() => t.router.heldCount('inst') === 1, 1_000);
    t.presence.claimElsewhere('inst', 'b');
    const reconnectedAt = Date.now();
    t.bus.reconnected();
    await dispatched;
    await t.settled();
    expect(t.chat.sink.events).toEqual(['a', 'done']);
    expect(t.sentTo).toEqual(['b:']);
    // Not at the next poll of the hold (HOLD_POLL_MS, 500 ms).
    expect(Date.now() - reconnectedAt).toBeLessThan(400);
  });

  it('a held chat whose replica never comes gets instance_offline when the hold ends', async () => {
    const t = setup({ distributed: false, env: { CHAT_HOLD_MS: '200' } });
    await t.dispatch(t.chat);
    await t.settled();
    expect(t.chat.sink.events).toEqual(['error:instance_offline']);
    expect(t.router.heldCount('inst')).toBe(0);
  });

  it('a chat whose only replica dropped before the first token waits for it to come back', async () => {
    const dropped = localReplica('r', fails('host_disconnected'));
    const t = setup({ distributed: false, local: [dropped], env: { CHAT_HOLD_MS: '5000' } });
    const dispatched = t.dispatch(t.chat);
    await eventually(() => t.router.heldCount('inst') === 1, 1_000);
    const again = new FakeHostConnection({ replica: 'r', epoch: 2, answer: answers });
    t.connectLocal(again);
    await dispatched;
    await t.settled();
    expect(t.chat.sink.events).toEqual(['a', 'done']);
  });

  it('admission: offline without a hold, hold_full past CHAT_HOLD_LIMIT', async () => {
    expect(await setup({ distributed: false, env: { CHAT_HOLD_MS: '0' } }).admit(Date.now())).toBe('offline');
    const t = setup({ distributed: false, env: { CHAT_HOLD_MS: '5000', CHAT_HOLD_LIMIT: '1' } });
    void t.dispatch(t.chat);
    await eventually(() => t.router.heldCount('inst') === 1, 1_000);
    expect(await t.admit(Date.now())).toBe('hold_full');
    t.connectLocal(localReplica('r', answers));
    await t.settled();
  });

  it('admission: an instance never connected, or not lately, is not waited for', async () => {
    const t = setup({ distributed: false, env: { CHAT_HOLD_MS: '5000', CHAT_HOLD_RECENT_MS: '60000' } });
    expect(await t.admit(null)).toBe('offline');
    expect(await t.admit(Date.now() - 61_000)).toBe('offline');
    expect(await t.admit(Date.now() - 59_000)).toBe('hold');
  });

  it('admission: node_hold_full past CHAT_HOLD_NODE_LIMIT, whatever the instance', async () => {
    const t = setup({ distributed: false, env: { CHAT_HOLD_MS: '5000', CHAT_HOLD_NODE_LIMIT: '1' } });
    void t.dispatch(t.chat);
    await eventually(() => t.router.heldCount('inst') === 1, 1_000);
    expect(await t.admit(Date.now(), 'other')).toBe('node_hold_full');
    t.connectLocal(localReplica('r', answers));
    await t.settled();
    expect(t.router.heldCount('inst')).toBe(0);
  });

  it("a held chat's cancel (its caller left) ends the wait at once and frees its place", async () => {
    const t = setup({ distributed: false, env: { CHAT_HOLD_MS: '5000' } });
    const route = new ChatRoute(t.chat);
    const dispatched = t.dispatch(t.chat, route);
    await eventually(() => t.router.heldCount('inst') === 1, 1_000);
    t.chat.sink.isFinished = true;
    route.cancel();
    await dispatched;
    expect(t.router.heldCount('inst')).toBe(0);
  });

  describe.each(CHAT_FAILURE_CODES)(
    'after %s before the first token, routing does what CHAT_FAILURES says',
    (code) => {
      const { failover, hold } = CHAT_FAILURES[code];

      it(`${failover ? 'tries' : 'does not try'} another replica`, async () => {
        const first = localReplica('first', fails(code), 4, 0);
        const second = localReplica('second', answers, 1, 0);
        const t = setup({ distributed: false, local: [first, second] });
        await t.dispatch(t.chat);
        await t.settled();
        expect(first.started).toHaveLength(1);
        expect(second.started).toHaveLength(failover ? 1 : 0);
        expect(t.chat.sink.events).toEqual(failover ? ['a', 'done'] : [`error:${code}`]);
      });

      it(`${failover && hold ? 'waits for' : 'does not wait for'} a replica when it was the only one`, async () => {
        const only = localReplica('only', fails(code));
        const t = setup({ distributed: false, local: [only], env: { CHAT_HOLD_MS: '5000' } });
        const dispatched = t.dispatch(t.chat);
        if (failover && hold) {
          await eventually(() => t.router.heldCount('inst') === 1, 1_000);
          t.connectLocal(new FakeHostConnection({ replica: 'only', epoch: 2, answer: answers }));
        }
        await dispatched;
        await t.settled();
        expect(t.chat.sink.events).toEqual(failover && hold ? ['a', 'done'] : [`error:${code}`]);
      });
    },
  );
});
