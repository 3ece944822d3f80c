import { answers } from '../../../../test/doubles/fake-host-connection';
import { localReplica, remoteRecord, setup } from '../../../../test/doubles/chat-router-fixture';
import { eventually } from '../../../../test/support/eventually';
import type { ModelStatus } from '@app/protocol';

/** A remote replica whose agent reported its model `status`. */
const remoteWithModel = (name: string, nodeId: string, status: ModelStatus) => {
  const record = remoteRecord(name, nodeId, 4, 0);
  return { ...record, state: { ...record.state, modelStatus: status } };
};

describe('ChatRouter: a replica whose model is down gets no chats', () => {
  it('sends chats to a healthy replica elsewhere rather than to a free one here whose model is unreachable', async () => {
    const sick = localReplica('sick', answers, 8, 0);
    sick.model.status = 'unreachable';
    const t = setup({ local: [sick], records: [remoteRecord('fine', 'b', 1, 0)] });
    for (let i = 0; i < 3; i++) {
      const chat = t.newChat();
      expect(await t.router.admission(chat, Date.now())).toMatchObject({ kind: 'route' });
      await t.dispatch(chat);
      await t.settled(chat);
      expect(chat.sink.events).toEqual(['a', 'done']);
    }
    expect(sick.started).toEqual([]);
    expect(t.sentTo).toEqual(['b:fine', 'b:fine', 'b:fine']);
  });

  it('skips a remote replica whose model answers with an error; unknown (a stock host) counts as healthy', async () => {
    const t = setup({
      records: [remoteWithModel('broken', 'b', 'error'), remoteRecord('stock', 'c', 1, 0)],
    });
    await t.dispatch(t.chat);
    await t.settled();
    expect(t.sentTo).toEqual(['c:stock']);
  });

  it('without a hold, no healthy replica is model_down at admission (503 model_unreachable), not offline', async () => {
    const sick = localReplica('sick', answers);
    sick.model.status = 'error';
    const t = setup({ distributed: false, local: [sick], env: { CHAT_HOLD_MS: '0' } });
    expect(await t.admit(null)).toBe('model_down');
    await t.dispatch(t.chat);
    await t.settled();
    expect(t.chat.sink.events).toEqual(['error:model_unreachable']);
    expect(sick.started).toEqual([]);
  });

  it('holds the chat, even for an instance not seen lately, and wakes it the moment the model is back', async () => {
    const sick = localReplica('sick', answers);
    sick.model.status = 'unreachable';
    const t = setup({ distributed: false, local: [sick], env: { CHAT_HOLD_MS: '5000' } });
    expect(await t.admit(null)).toBe('hold');
    const startedAt = Date.now();
    const dispatched = t.dispatch(t.chat);
    await eventually(() => t.router.heldCount('inst') === 1, 1_000);
    sick.model.status = 'ok';
    t.hosts.modelChanged(sick);
    await dispatched;
    await t.settled();
    expect(t.chat.sink.events).toEqual(['a', 'done']);
    expect(sick.started).toHaveLength(1);
    // Woken by the change, not by the hold's 0.5 s look.
    expect(Date.now() - startedAt).toBeLessThan(450);
  });

  it('a hold that ends with every model still down answers model_unreachable', async () => {
    const sick = localReplica('sick', answers);
    sick.model.status = 'unreachable';
    const t = setup({ distributed: false, local: [sick], env: { CHAT_HOLD_MS: '200' } });
    await t.dispatch(t.chat);
    await t.settled();
    expect(t.chat.sink.events).toEqual(['error:model_unreachable']);
    expect(t.router.heldCount('inst')).toBe(0);
  });
});
