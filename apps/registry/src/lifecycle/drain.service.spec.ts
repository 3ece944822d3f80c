import type { ChatRelayService } from '../chat/chat-relay.service';
import type { RemoteChatServer } from '../chat/remote-chat.server';
import { loadConfig } from '../config/app-config';
import type { ConnectedHosts } from '../hosts/connected-hosts';
import type { PassthroughRelayService } from '../passthrough/passthrough-relay.service';
import { DrainService } from './drain.service';
import { NodeState } from './node-state';

/** A node with `chats` local streams, `others` requests for other endpoints, `remote` streams served for other nodes and `sockets` host sockets open. */
function setup(
  env: Record<string, string>,
  load: { chats: number; others?: number; remote?: number; sockets?: number },
) {
  const calls: string[] = [];
  const hosts = {
    openCount: load.sockets ?? 0,
    goawayAll: (reason: string, handoffMs: number) => calls.push(`goaway ${handoffMs}: ${reason}`),
    terminateAll: () => {
      calls.push('terminate');
      hosts.openCount = 0;
    },
  };
  const chats = {
    activeCount: load.chats,
    abortAll: (reason: string) => {
      calls.push(`abort: ${reason}`);
      chats.activeCount = 0;
    },
  };
  const others = {
    activeCount: load.others ?? 0,
    abortAll: (reason: string) => {
      calls.push(`abort others: ${reason}`);
      others.activeCount = 0;
    },
  };
  const remoteChats = { size: load.remote ?? 0 };
  const state = new NodeState();
  const service = new DrainService(
    state,
    hosts as unknown as ConnectedHosts,
    chats as unknown as ChatRelayService,
    others as unknown as PassthroughRelayService,
    remoteChats as unknown as RemoteChatServer,
    loadConfig(env),
  );
  return { service, state, hosts, chats, others, remoteChats, calls };
}

describe('DrainService (SIGTERM)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('turns readiness false and tells the hosts to go at once, then lets in-flight chats finish', async () => {
    const t = setup({ DRAIN_GRACE_MS: '10000' }, { chats: 2, remote: 1 });
    let result: { clean: boolean; waitedMs: number } | undefined;
    void t.service.drain().then((r) => (result = r));
    expect(t.state.draining).toBe(true);
    // One node (no Redis): nowhere to hand a host over to, so no handoff time.
    expect(t.calls).toEqual(['goaway 0: node draining']);

    await jest.advanceTimersByTimeAsync(3_000);
    expect(result).toBeUndefined();
    t.chats.activeCount = 0;
    await jest.advanceTimersByTimeAsync(1_000);
    expect(result).toBeUndefined();
    t.remoteChats.size = 0;
    await jest.advanceTimersByTimeAsync(100);
    expect(result?.clean).toBe(true);
    expect(result!.waitedMs).toBeGreaterThanOrEqual(4_000);
    expect(result!.waitedMs).toBeLessThan(4_200);
    expect(t.calls).toEqual(['goaway 0: node draining', 'terminate']);
  });

  it('at the end of the grace period ends the streams still running with an error and cuts the sockets', async () => {
    const t = setup({ DRAIN_GRACE_MS: '5000' }, { chats: 1, sockets: 1 });
    let result: { clean: boolean; waitedMs: number } | undefined;
    void t.service.drain().then((r) => (result = r));
    await jest.advanceTimersByTimeAsync(4_900);
    expect(result).toBeUndefined();
    expect(t.calls).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(200);
    expect(result?.clean).toBe(false);
    expect(result!.waitedMs).toBeGreaterThanOrEqual(5_000);
    expect(t.calls.slice(1)).toEqual([
      'abort: the registry node shut down before the answer completed',
      'abort others: the registry node shut down before the answer completed',
      'terminate',
    ]);
  });

  it('waits for requests to the other endpoints (embeddings, responses…) as for chats', async () => {
    const t = setup({ DRAIN_GRACE_MS: '5000' }, { chats: 0, others: 1 });
    let result: { clean: boolean; waitedMs: number } | undefined;
    void t.service.drain().then((r) => (result = r));
    await jest.advanceTimersByTimeAsync(1_000);
    expect(result).toBeUndefined();
    t.others.activeCount = 0;
    await jest.advanceTimersByTimeAsync(100);
    expect(result?.clean).toBe(true);
    expect(t.calls.some((c) => c.startsWith('abort'))).toBe(false);
  });

  it('waits for host sockets still finishing after their chats, without cutting any stream', async () => {
    const t = setup({ DRAIN_GRACE_MS: '5000' }, { chats: 0, sockets: 2 });
    let result: { clean: boolean; waitedMs: number } | undefined;
    void t.service.drain().then((r) => (result = r));
    await jest.advanceTimersByTimeAsync(1_000);
    expect(result).toBeUndefined();
    t.hosts.openCount = 0;
    await jest.advanceTimersByTimeAsync(100);
    expect(result?.clean).toBe(true);
    expect(t.calls.some((c) => c.startsWith('abort'))).toBe(false);
  });

  it('with Redis, hosts get the handoff time (never longer than the grace) to reconnect elsewhere', async () => {
    const env = { REDIS_URL: 'redis://127.0.0.1:6379' };
    const withHandoff = setup({ ...env, DRAIN_GRACE_MS: '10000', DRAIN_HANDOFF_MS: '3000' }, { chats: 0 });
    await withHandoff.service.drain();
    expect(withHandoff.calls[0]).toBe('goaway 3000: node draining');
    const shortGrace = setup({ ...env, DRAIN_GRACE_MS: '1000', DRAIN_HANDOFF_MS: '3000' }, { chats: 0 });
    await shortGrace.service.drain();
    expect(shortGrace.calls[0]).toBe('goaway 1000: node draining');
  });

  it('with nothing in flight, returns at once', async () => {
    const t = setup({}, { chats: 0 });
    expect(await t.service.drain()).toEqual({ clean: true, waitedMs: 0 });
  });
});
