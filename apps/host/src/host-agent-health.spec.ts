import type { HelloFrame, ModelStatusFrame } from '@app/protocol';
import { startFakeModel, type FakeModel } from '../../../test/support/fake-model-server';
import { HostAgentHarness, PASSWORD } from '../../../test/support/fake-registry';
import { eventually } from '../../../test/support/eventually';
import { freePort } from '../../../test/support/redis-server';

describe('HostAgent: the model server’s health, told to the registry', () => {
  const h = new HostAgentHarness();
  let model: FakeModel | undefined;
  beforeAll(() => h.start());
  afterEach(async () => {
    await model?.close();
    model = undefined;
    expect(await h.cleanUp()).not.toContain(PASSWORD);
  });
  afterAll(() => h.close());

  it('offers health in its hello, reports after it, and reports each change on the same socket', async () => {
    const port = await freePort();
    model = await startFakeModel({ port, models: ['m1'] });
    const registry = await h.newRegistry();
    h.newAgent([registry.url], { upstreamUrl: model.url, healthIntervalMs: 100 });
    const statuses = () =>
      registry.frames
        .filter((f) => f.frame.type === 'model_status')
        .map((f) => (f.frame as ModelStatusFrame).status);
    await eventually(() => statuses().length === 1, 3_000);
    const types = registry.frames.map((f) => f.frame.type);
    expect(types.indexOf('hello')).toBeLessThan(types.indexOf('model_status'));
    expect(registry.frames.find((f) => f.frame.type === 'hello')!.frame).toMatchObject({
      capabilities: { health: true },
    });
    expect(statuses()).toEqual(['ok']);

    await model.close();
    model = undefined;
    await eventually(() => statuses().length === 2, 3_000);
    const down = registry.frames.filter((f) => f.frame.type === 'model_status').at(-1)!
      .frame as ModelStatusFrame;
    expect(down).toMatchObject({ status: 'unreachable', detail: expect.stringMatching(/ECONNREFUSED/) });
    expect(h.logger.text()).toMatch(/model server at .* is unreachable .* — start the model server/);

    model = await startFakeModel({ port, models: ['m1'] });
    await eventually(() => statuses().length === 3, 3_000);
    expect(statuses()).toEqual(['ok', 'unreachable', 'ok']);
    // Same socket all along: the agent never reconnected for it.
    expect(new Set(registry.frames.map((f) => f.conn)).size).toBe(1);
    expect(h.agent!.stats.connects).toBe(1);
  });

  it('with --health-interval 0 it offers no health and sends no model_status', async () => {
    const registry = await h.newRegistry();
    h.newAgent([registry.url], { healthIntervalMs: 0 });
    await eventually(() => registry.frames.some((f) => f.frame.type === 'heartbeat'), 3_000);
    const hello = registry.frames.find((f) => f.frame.type === 'hello')!.frame;
    expect((hello as HelloFrame).capabilities?.health).toBeUndefined();
    expect(registry.frames.some((f) => f.frame.type === 'model_status')).toBe(false);
  });
});
