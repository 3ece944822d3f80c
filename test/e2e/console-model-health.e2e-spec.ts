import type { Browser, Page } from 'playwright-core';
import { collectPageErrors, launchChromium } from '../support/browser';
import { FakeModel, startFakeModel } from '../support/fake-model-server';
import { RunningRegistry, startAgent, startRegistry, TestProcess } from '../support/processes';
import { eventually, instanceDetail, Registered, registerInstance } from '../support/registry-client';
import { freePort } from '../support/redis-server';

/** Issue #22 item 3 in a real browser: "online — model unreachable", and the agent's words for the owner only. */
describe('web console: a model that stopped answering', () => {
  let registry: RunningRegistry;
  let model: FakeModel | undefined;
  let port: number;
  let agent: TestProcess;
  let instance: Registered;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  const open = (hash: string) => page.goto(`${registry.url}/${hash}`);
  const badge = () => page.locator('.page-head [data-status]');

  beforeAll(async () => {
    port = await freePort();
    [registry, model, browser] = await Promise.all([
      startRegistry({}),
      startFakeModel({ port, models: ['fake-model'] }),
      launchChromium(),
    ]);
    instance = await registerInstance(registry.url, 'Flaky llama');
    agent = await startAgent({
      ...instance,
      registry: registry.url,
      upstream: model.url,
      env: { HOST_REPLICA: 'gpu-1', HOST_HEALTH_INTERVAL: '1' },
    });
    await eventually(
      async () => (await instanceDetail(registry.url, instance)).replicas?.[0]?.model_status === 'ok',
      10_000,
    );
    page = await (await browser.newContext({ viewport: { width: 1100, height: 820 } })).newPage();
    errors = collectPageErrors(page);
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([agent?.stop(), registry?.proc.stop(), model?.close()]);
  });

  afterEach(() => expect(errors).toEqual([]));

  it('the directory and the instance page say "online — model unreachable" within a poll, then "online" again', async () => {
    await open('#/');
    const card = page.locator(`li[data-instance="${instance.instanceId}"] [data-status]`);
    await card.filter({ hasText: /^online$/ }).waitFor();

    await model!.close();
    model = undefined;
    await card.filter({ hasText: 'online — model unreachable' }).waitFor({ timeout: 10_000 });
    expect(await card.getAttribute('data-model')).toBe('unreachable');

    await open(`#/i/${instance.instanceId}`);
    await badge().filter({ hasText: 'online — model unreachable' }).waitFor();
    // The public page never shows the agent's words about the model server.
    expect(await page.content()).not.toMatch(/ECONNREFUSED|GET \/models/);

    model = await startFakeModel({ port, models: ['fake-model'] });
    await badge()
      .filter({ hasText: /^online$/ })
      .waitFor({ timeout: 10_000 });
  });

  it("the owner's page lists each agent's model status with the agent's own words", async () => {
    await model!.close();
    model = undefined;
    // The owner's page reads the detail once, when it opens.
    await eventually(
      async () =>
        (await instanceDetail(registry.url, instance)).replicas?.[0]?.model_status === 'unreachable',
      10_000,
    );
    await open('#/owner');
    await page.getByLabel('Instance id').fill(instance.instanceId);
    await page.getByLabel('Password').fill(instance.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await badge().filter({ hasText: 'online — model unreachable' }).waitFor();
    const cell = page.getByTestId('replicas-table').locator('td[data-label="Model"]');
    await cell.filter({ hasText: 'unreachable' }).waitFor();
    expect(await cell.textContent()).toMatch(/^unreachable · GET \/models: .*ECONNREFUSED/);
  });
});
