import { startFakeModel } from '../../../test/support/fake-model-server';
import { eventually } from '../../../test/support/eventually';
import { PASSWORD, REPLICA, HostAgentHarness, delay, lines } from '../../../test/support/fake-registry';
import { freePort } from '../../../test/support/redis-server';

describe('HostAgent reconnecting (in process, against fake registries)', () => {
  const h = new HostAgentHarness();
  beforeAll(() => h.start());
  afterEach(async () => {
    // The password must never reach the logs, whatever happened.
    expect(await h.cleanUp()).not.toContain(PASSWORD);
  });
  afterAll(() => h.close());

  it('aborts in-flight upstream requests when the socket drops, then reconnects', async () => {
    const registry = await h.newRegistry();
    h.newAgent([registry.url]);
    await eventually(() => registry.frames.length > 0, 3000);
    registry.chat(0, 'dropped', '[hang]');
    await eventually(() => registry.responses('dropped').length > 0, 3000);
    const aborted = h.model.nextAbort(1000);
    registry.sockets[0].terminate();
    await aborted;
    await eventually(() => registry.sockets.length === 2, 3000);
    await eventually(() => registry.frames.some((f) => f.conn === 1 && f.frame.type === 'hello'), 3000);
    expect(h.logger.text()).toMatch(/disconnected \(code 1006.*\); reconnecting in \d+\.\d s/);
  });

  it('rejected with 401: stops for good with a plain message, without retrying', async () => {
    const registry = await h.newRegistry();
    registry.rejectWith = 401;
    h.newAgent([registry.url]);
    const exit = await h.agent!.finished;
    expect(exit).toMatchObject({ kind: 'fatal', reason: 'unauthorized' });
    const message = exit.kind === 'fatal' ? exit.message : '';
    expect(message).toMatch(
      /^wrong instance id or password — check --instance .*INSTANCE_PASSWORD or --password-file/,
    );
    expect(h.logger.lines).toContainEqual({ level: 'error', message });
    await delay(100);
    expect(registry.upgrades).toHaveLength(1);
  });

  it('rejected with 404: stops with "instance not found (deleted, …?)"', async () => {
    const registry = await h.newRegistry();
    registry.rejectWith = 404;
    h.newAgent([registry.url]);
    expect(await h.agent!.finished).toMatchObject({ kind: 'fatal', reason: 'not_found' });
    expect(h.logger.text()).toContain('instance not found (deleted, or registered on another registry?)');
  });

  it('rejected with 503: backs off and retries until accepted', async () => {
    const registry = await h.newRegistry();
    registry.rejectWith = 503;
    h.newAgent([registry.url]);
    await eventually(() => registry.upgrades.length >= 3, 3000);
    registry.rejectWith = null;
    await eventually(() => registry.frames.some((f) => f.frame.type === 'hello'), 3000);
    expect(h.logger.text()).toContain('refused the connection (HTTP 503)');
  });

  it('keeps retrying while the registry is down at start and connects once it is up', async () => {
    const port = await freePort();

    h.newAgent([`http://127.0.0.1:${port}`]);
    let retries = 0;
    h.agent!.on('reconnecting', () => retries++);
    await eventually(() => retries >= 3, 3000);
    expect(h.agent!.connected).toBe(false);
    expect(h.logger.text()).toContain('ECONNREFUSED');

    const registry = await h.newRegistry({}, port);
    await eventually(() => registry.frames.some((f) => f.frame.type === 'hello'), 3000);
    expect(h.agent!.connected).toBe(true);
  });

  it('closed with 4409 (superseded): exits without fighting for the instance', async () => {
    const registry = await h.newRegistry();
    h.newAgent([registry.url]);
    await eventually(() => registry.frames.length > 0, 3000);
    registry.sockets[0].close(4409, 'superseded');
    expect(await h.agent!.finished).toMatchObject({ kind: 'fatal', reason: 'superseded' });
    expect(h.logger.text()).toContain(
      'another agent connected with this instance id and replica name and took over',
    );
    await delay(100);
    expect(registry.upgrades).toHaveLength(1);
  });

  it('closed with 4429 (too many replicas): backs off and retries under the same name', async () => {
    const registry = await h.newRegistry();
    h.newAgent([registry.url]);
    await eventually(() => registry.frames.length > 0, 3000);
    registry.sockets[0].close(4429, 'too many replicas');
    await eventually(() => registry.frames.some((f) => f.conn === 1 && f.frame.type === 'hello'), 3000);
    expect(registry.upgrades.map((u) => u.headers['x-replica'])).toEqual([REPLICA, REPLICA]);
    expect(h.logger.text()).toMatch(
      /turned this replica away: the instance already has as many replicas as the registry allows \(code 4429, too many replicas\); retrying in case one leaves; reconnecting in \d+\.\d s/,
    );
    expect(h.agent!.connected).toBe(true);
  });

  it('closed with 4404 (unregistered): exits', async () => {
    const registry = await h.newRegistry();
    h.newAgent([registry.url]);
    await eventually(() => registry.frames.length > 0, 3000);
    registry.sockets[0].close(4404, 'unregistered');
    expect(await h.agent!.finished).toMatchObject({ kind: 'fatal', reason: 'unregistered' });
  });

  it('closed with 4401 (password rotated): exits and says the password changed', async () => {
    const registry = await h.newRegistry();
    h.newAgent([registry.url]);
    await eventually(() => registry.frames.length > 0, 3000);
    registry.sockets[0].close(4401, 'the instance password was changed');
    expect(await h.agent!.finished).toMatchObject({ kind: 'fatal', reason: 'unauthorized' });
    expect(h.logger.text()).toContain('the instance password was changed');
    await delay(100);
    expect(registry.upgrades).toHaveLength(1);
  });

  it('closed with 1012 (service restart): reconnects at once to the next registry', async () => {
    const a = await h.newRegistry();
    const b = await h.newRegistry();
    h.newAgent([a.url, b.url], { backoffBaseMs: 5000, backoffCapMs: 5000 });
    await eventually(() => a.frames.length > 0, 3000);
    const closedAt = Date.now();
    a.sockets[0].close(1012, 'restart');
    await eventually(() => b.frames.some((f) => f.frame.type === 'hello'), 2000);
    // Well under the 5 s backoff: only the 0-250 ms jitter applies.
    expect(Date.now() - closedAt).toBeLessThan(1000);
  });

  it('goaway: reconnects to the next registry at once and finishes in-flight streams on the old socket', async () => {
    const slow = await startFakeModel({ chunks: 5, delayMs: 60 });
    try {
      const a = await h.newRegistry();
      const b = await h.newRegistry();
      h.newAgent([a.url, b.url], { upstreamUrl: slow.url, backoffBaseMs: 5000, backoffCapMs: 5000 });
      await eventually(() => a.frames.length > 0, 3000);
      a.chat(0, 'inflight', 'hi');
      await eventually(() => a.responses('inflight').length > 0, 3000);
      const sentAt = Date.now();
      a.send(0, { type: 'goaway', reason: 'draining' });

      // The new connection is up on b while the old stream still runs on a.
      await eventually(() => b.frames.some((f) => f.frame.type === 'hello'), 1000);
      expect(Date.now() - sentAt).toBeLessThan(1000);
      expect(a.closes).toHaveLength(0);

      const end = await a.finished('inflight');
      expect(end.done).toBe(true);
      // Five content chunks, the finish chunk and the usage chunk the agent asks for.
      expect(lines(a.responses('inflight'))).toHaveLength(7);
      expect(b.responses('inflight')).toHaveLength(0);
      // The new connection claims the same replica, so the registry replaces the old one (not adds one).
      expect(b.upgrades[0].headers['x-replica']).toBe(a.upgrades[0].headers['x-replica']);
      // Then the drained socket is closed normally.
      await eventually(() => a.closes.length === 1, 2000);
      expect(a.closes[0].code).toBe(1000);

      // New requests go over the new socket.
      b.chat(0, 'after', 'hi');
      expect((await b.finished('after')).done).toBe(true);
      expect(h.logger.text()).toContain('is going away (draining)');
    } finally {
      await h.agent?.stop();
      await slow.close();
    }
  });

  it('drops a link whose pings go unanswered and reconnects', async () => {
    const registry = await h.newRegistry({ autoPong: false });
    h.newAgent([registry.url], { pingMs: 50 });
    await eventually(() => registry.sockets.length >= 2, 3000);
    expect(h.logger.text()).toContain('no answer to ping');
  });
});
