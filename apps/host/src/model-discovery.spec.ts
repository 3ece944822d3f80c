import { createServer, type Server } from 'node:net';
import { startFakeModel, type FakeModel } from '../../../test/support/fake-model-server';
import { freePort } from '../../../test/support/redis-server';
import { createMemoryLogger, type MemoryLogger } from './logger';
import { ModelDiscovery } from './model-discovery';
import { Upstream } from './upstream';

describe('ModelDiscovery (against a fake model server)', () => {
  let logger: MemoryLogger;
  let upstream: Upstream | undefined;
  let model: FakeModel | undefined;

  const discoveryAt = (port: number, model?: string) => {
    logger = createMemoryLogger();
    upstream = new Upstream({ baseUrl: `http://127.0.0.1:${port}/v1` });
    return new ModelDiscovery(upstream, logger, model);
  };

  afterEach(async () => {
    upstream?.close();
    await model?.close();
    upstream = model = undefined;
  });

  it("lists the upstream's models and says so once, not on every reconnect", async () => {
    model = await startFakeModel({ models: ['m1', 'm2'] });
    const discovery = discoveryAt(model.port);
    expect(await discovery.fetch()).toEqual(['m1', 'm2']);
    expect(await discovery.fetch()).toEqual(['m1', 'm2']);
    expect(discovery.known).toEqual(['m1', 'm2']);
    expect(logger.lines).toEqual([
      { level: 'info', message: `upstream http://127.0.0.1:${model.port}/v1 serves m1, m2` },
    ]);
  });

  it('gives [] while the upstream is down, warns once per streak with what to do, and says when it is back', async () => {
    const port = await freePort();
    const discovery = discoveryAt(port);
    expect(await discovery.fetch()).toEqual([]);
    expect(await discovery.fetch()).toEqual([]);
    expect(logger.lines.map((l) => l.level)).toEqual(['warn', 'debug']);
    expect(logger.lines[0].message).toMatch(
      new RegExp(
        `^cannot list the models of the upstream at http://127.0.0.1:${port}/v1 \\(.*ECONNREFUSED.*\\) — ` +
          'start the model server, or set --upstream \\(UPSTREAM_URL\\)',
      ),
    );

    model = await startFakeModel({ port, models: ['m1'] });
    expect(await discovery.fetch()).toEqual(['m1']);
    expect(logger.lines.at(-1)).toEqual({
      level: 'info',
      message: `upstream http://127.0.0.1:${port}/v1 serves m1`,
    });

    await model.close();
    model = undefined;
    expect(await discovery.fetch()).toEqual([]);
    expect(logger.lines.at(-1)?.level).toBe('warn');
    // The last good list still fills in a request's model.
    expect(discovery.known).toEqual(['m1']);
  });

  it('warns when the upstream serves no models, or not the one --model names', async () => {
    model = await startFakeModel({ models: [] });
    const empty = discoveryAt(model.port);
    expect(await empty.fetch()).toEqual([]);
    expect(logger.lines).toEqual([
      {
        level: 'warn',
        message: expect.stringMatching(/answers but serves no models — load or pull a model/),
      },
    ]);
    await model.close();

    model = await startFakeModel({ models: ['qwen3', 'gemma3'] });
    const missing = discoveryAt(model.port, 'llama3');
    expect(await missing.fetch()).toEqual(['qwen3', 'gemma3']);
    expect(await missing.fetch()).toEqual(['qwen3', 'gemma3']);
    expect(logger.lines.map((l) => l.level)).toEqual(['warn', 'debug']);
    expect(logger.lines[0].message).toMatch(
      /^--model llama3 is not served by the upstream \(it serves qwen3, gemma3\) — pull or load that model/,
    );
  });

  it('stop() ends a fetch under way at once, with [] and nothing logged', async () => {
    // Accepts connections and never answers.
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const address = silent.address();
      const discovery = discoveryAt(typeof address === 'object' && address ? address.port : 0);
      const pending = discovery.fetch();
      discovery.stop();
      expect(await pending).toEqual([]);
      expect(logger.lines).toEqual([]);
    } finally {
      upstream?.close();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
