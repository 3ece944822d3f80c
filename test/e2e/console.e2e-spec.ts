import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { collectPageErrors, launchChromium } from '../support/browser';
import { ChatBody, FakeModel, lastUserText, startFakeModel } from '../support/fake-model-server';
import { RunningRegistry, startAgent, startRegistry, TestProcess } from '../support/processes';
import { eventually, registerInstance } from '../support/registry-client';

/** `CONSOLE_SCREENSHOTS_DIR=docs/console` refreshes the pictures in docs/console.md. */
const SCREENSHOTS = path.resolve(
  process.env.CONSOLE_SCREENSHOTS_DIR || path.join(tmpdir(), 'console-screenshots'),
);
const run = promisify(execFile);
const ANSWER = 'Hello from the fake model.';
const WORDS = ['Hello', ' from', ' the', ' fake', ' model', '.'];
/** What a model might write: Markdown with markup in it that must stay text. */
const MARKDOWN_ANSWER = [
  'Here is **bold**, *emphasis* and `inline code`.\n\n',
  "<script>document.title = 'pwned by script'</script>\n\n",
  '<img src="/favicon.ico" onerror="document.title = \'pwned by img\'" onload="document.title = \'pwned by img\'">\n\n',
  "- [a safe link](https://example.com/docs)\n- [a bad link](javascript:document.title='pwned')\n\n",
  "```js\nconsole.log('<b>hi</b>');\n",
  '```\n',
];
const answerChunk = (i: number, body: ChatBody) =>
  lastUserText(body).includes('[markdown]') ? MARKDOWN_ANSWER[i] : WORDS[i % WORDS.length];

describe('web console in a real browser (Chromium, registry, agent, fake model)', () => {
  let registry: RunningRegistry;
  let model: FakeModel;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  let agent: TestProcess | undefined;
  let instanceId = '';
  let password = '';

  const open = async (hash: string) => {
    await page.goto(`${registry.url}/${hash}`);
  };
  const shot = (name: string, target: Page = page) =>
    target.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  const card = (id: string) => page.locator(`[data-instance="${id}"]`);
  const answers = () => page.getByTestId('answer');
  // The playground's tabs and the snippets' tabs share names ("Chat", "Embeddings").
  const playgroundTab = (name: string) =>
    page.getByRole('tablist', { name: 'What to try' }).getByRole('tab', { name });
  const endpointTab = (name: string) =>
    page.getByRole('tablist', { name: 'Endpoint' }).getByRole('tab', { name });
  const clipboard = () => page.evaluate<string>('navigator.clipboard.readText()');
  const lastChat = () => model.requests.filter((r) => r.method === 'POST').at(-1)!.body as ChatBody;
  const listed = async (id: string) => {
    const res = await fetch(`${registry.url}/api/upload/list?page_no=1&page_size=100`);
    const { data } = (await res.json()) as {
      data: { items: Array<{ instance_id: string; description: string }> };
    };
    return data.items.find((item) => item.instance_id === id);
  };

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    browser = await launchChromium();
    [registry, model] = await Promise.all([
      startRegistry({}),
      startFakeModel({
        chunks: 6,
        delayMs: 40,
        models: ['fake-model', 'fake-model-large'],
        content: answerChunk,
      }),
    ]);
    context = await browser.newContext({ viewport: { width: 1100, height: 820 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: registry.url });
    page = await context.newPage();
    errors = collectPageErrors(page, [502, 503]);
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([agent?.stop(), registry?.proc.stop(), model?.close()]);
  });

  it('is served at / by the registry node, beside the API, its docs and health checks', async () => {
    const index = await fetch(`${registry.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(index.headers.get('content-security-policy')).toContain("default-src 'self'");
    const script = await fetch(`${registry.url}/console/app.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(script.status).toBe(200);
    const gzipBytes = Number(script.headers.get('content-length'));
    console.log(`console app.js served gzip: ${gzipBytes} bytes`);
    expect(gzipBytes).toBeLessThan(150 * 1024);
    for (const pathname of ['/docs', '/healthz', '/readyz', '/metrics', '/api/upload/count'])
      expect([pathname, (await fetch(`${registry.url}${pathname}`)).status]).toEqual([pathname, 200]);
    expect((await fetch(`${registry.url}/console/..%2Fpackage.json`)).status).toBe(404);
  });

  it("serves /docs under the console's policy (no framing, this node's files only) and Swagger UI still works", async () => {
    const docs = await fetch(`${registry.url}/docs`);
    const policy = docs.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).toContain("script-src 'self'");
    const before = errors.length;
    await page.goto(`${registry.url}/docs`);
    await page.getByText('Model registry').first().waitFor({ timeout: 10_000 });
    await page.getByText('/api/upload/register').first().waitFor({ timeout: 10_000 });
    // A policy violation shows as a console error ("Refused to …").
    expect(errors.slice(before)).toEqual([]);
  });

  it('registers an instance from the form and shows its password once, with the agent command', async () => {
    await open('#/register');
    await page.getByLabel('Name').fill('Console llama');
    await page.getByLabel('Description').fill('A model registered from the browser');
    await page.getByLabel(/^Model/).fill('ghost-model');
    await page.getByRole('button', { name: 'Register' }).click();
    instanceId = (await page.getByTestId('new-instance-id').textContent()) ?? '';
    password = (await page.getByTestId('new-password').textContent()) ?? '';
    expect(instanceId).toMatch(/^[a-z0-9]{6,}$/);
    expect(password.length).toBeGreaterThanOrEqual(32);
    // The two-line install: the agent from this node, the password in the environment, not a flag.
    const command = (await page.getByTestId('agent-command').textContent()) ?? '';
    expect(command.split('\n')).toEqual([
      `curl -fsSLO ${registry.url}/agent.mjs`,
      `INSTANCE_PASSWORD='${password}' node agent.mjs \\`,
      `  --registry ${registry.url} --instance ${instanceId} \\`,
      '  --upstream http://127.0.0.1:11434/v1',
    ]);
    expect(await page.content()).not.toContain('--password ');
    await shot('register');
    // Shown once: the public page of the instance never shows it; its agent snippet has a placeholder.
    await open(`#/i/${instanceId}`);
    await page.getByRole('heading', { name: 'Console llama' }).waitFor();
    const content = await page.content();
    expect(content).not.toContain(password);
    expect(content).toContain(`curl -fsSLO ${registry.url}/agent.mjs`);
    expect(content).toContain('INSTANCE_PASSWORD=');
    expect(content).not.toContain('--password ');
  });

  it('says "never connected" for an instance no host has connected to, as its status filter does', async () => {
    await open('#/');
    const badge = card(instanceId).locator('[data-status="registered"]');
    await badge.waitFor();
    const filterWords = await page.getByLabel('Status').locator('option[value="registered"]').textContent();
    expect((await badge.textContent())?.toLowerCase()).toBe(filterWords?.toLowerCase());
    // Before any host announced its models, the one named at registration is all there is to show.
    expect(await card(instanceId).locator('.meta').textContent()).toContain('ghost-model');
  });

  it('shows the instance go online in the directory within 2 s of the agent connecting, without a reload', async () => {
    await open('#/');
    await card(instanceId).locator('[data-status="registered"]').waitFor();
    await page.evaluate('window.notReloaded = true');
    agent = await startAgent({
      registry: registry.url,
      instanceId,
      password,
      upstream: model.url,
      env: { HOST_REPLICA: 'console-replica', HOST_CONCURRENCY: '3' },
    });
    await card(instanceId).locator('[data-status="online"]').waitFor({ timeout: 2_000 });
    expect(await page.evaluate('window.notReloaded')).toBe(true);
    await shot('directory');
  });

  it('filters the directory by search and status', async () => {
    await page.getByLabel('Search').fill('no such words');
    await card(instanceId).waitFor({ state: 'detached' });
    await page.getByLabel('Search').fill('browser llama');
    await card(instanceId).waitFor();
    await page.getByLabel('Status').selectOption('offline');
    await card(instanceId).waitFor({ state: 'detached' });
    await page.getByLabel('Status').selectOption('online');
    await card(instanceId).waitFor();
  });

  it("lists only the models the host's model server has, not the one named at registration", async () => {
    await eventually(
      async () => !(await card(instanceId).locator('.meta').textContent())?.includes('ghost'),
      5_000,
    );
    expect(await card(instanceId).locator('.meta').textContent()).toContain('fake-model, fake-model-large');
    await open(`#/i/${instanceId}`);
    const modelsFact = page.locator('.facts dd').nth(2);
    await modelsFact.getByText('fake-model, fake-model-large').waitFor();
    const options = page.getByRole('combobox', { name: /^Model/ }).locator('option');
    await options.nth(1).waitFor({ state: 'attached' });
    expect(await options.allTextContents()).toEqual(['fake-model', 'fake-model-large']);
    expect(await page.locator('main').textContent()).not.toContain('ghost-model');
  });

  it('copies the chat URL with its Copy button', async () => {
    await page.getByRole('button', { name: 'Copy chat URL' }).click();
    expect(await clipboard()).toBe(`${registry.url}/api/chat/${instanceId}`);
  });

  it('streams an answer in the playground (sent from the keyboard) and shows time to first token and tokens/s', async () => {
    await open(`#/i/${instanceId}`);
    await page
      .getByRole('combobox', { name: /^Model/ })
      .locator('option', { hasText: 'fake-model-large' })
      .waitFor({ state: 'attached' });
    await page.getByRole('combobox', { name: /^Model/ }).selectOption('fake-model-large');
    await page.getByLabel('Message').fill('Say hello');
    // Keyboard only: the next tab stop after the message is the Send button.
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement.textContent')).toBe('Send');
    await page.keyboard.press('Enter');
    await page.getByTestId('answer').getByText(ANSWER).waitFor();
    const stats = (await page.getByTestId('answer-stats').textContent()) ?? '';
    expect(stats).toMatch(/^Time to first token \d+ ms · 6 tokens · [\d.]+ tokens\/s$/);
    const sent = model.requests.at(-1)!.body as { model: string; temperature: number; max_tokens: number };
    expect(sent).toMatchObject({ model: 'fake-model-large', temperature: 0.7, max_tokens: 512 });
    // The snippets name the model chosen here, one the instance accepts.
    expect(await page.getByTestId('snippet-curl').textContent()).toContain('"model":"fake-model-large"');
  });

  it('carries the conversation: the second question reaches the model with the first exchange', async () => {
    await page.getByLabel('System prompt (optional)').fill('Answer like a fake model.');
    await page.getByLabel('Message').fill('And what else?');
    await page.getByRole('button', { name: 'Send' }).click();
    await answers().nth(1).getByText(ANSWER).waitFor();
    const second = [
      { role: 'system', content: 'Answer like a fake model.' },
      { role: 'user', content: 'Say hello' },
      { role: 'assistant', content: ANSWER },
      { role: 'user', content: 'And what else?' },
    ];
    expect(lastChat().messages).toEqual(second);
    // The stats come with the stream's end, a moment after the answer's last words.
    await page.getByTestId('answer-stats').nth(1).waitFor();
    expect(await page.getByTestId('answer-stats').count()).toBe(2);

    // Regenerate asks the last question again with what came before it, and replaces its answer.
    const asked = model.requests.length;
    await page.getByRole('button', { name: 'Regenerate last' }).click();
    await eventually(() => model.requests.length > asked, 5_000);
    await page.getByTestId('answer-stats').nth(1).waitFor();
    expect(await answers().count()).toBe(2);
    expect(lastChat().messages).toEqual(second);
  });

  it('embeds a text in the Embeddings tab, which the instance offers because its host serves /embeddings', async () => {
    await playgroundTab('Embeddings').click();
    await page.getByLabel('Text to embed').fill('A passage to embed');
    await page.getByRole('button', { name: 'Embed' }).click();
    const result = page.getByTestId('embedding-result');
    await result.waitFor();
    expect((await result.textContent()) ?? '').toMatch(/^\d+ dimensions · \d+ tokens · \d+ ms\[-?\d/);
    const sent = model.requests.filter((r) => r.path === '/v1/embeddings').at(-1);
    expect(sent?.body).toMatchObject({ model: 'fake-model-large', input: 'A passage to embed' });
    await shot('playground-embeddings');
    // Back to the chat: the conversation is still there.
    await playgroundTab('Chat').click();
    expect(await answers().count()).toBe(2);
  });

  it('gives snippets per endpoint its host serves, chat first; the embeddings curl one answers as shown', async () => {
    const tabs = page.getByRole('tablist', { name: 'Endpoint' }).getByRole('tab');
    expect(await tabs.allTextContents()).toEqual([
      'Chat',
      'Embeddings',
      'Completions',
      'Responses',
      'Anthropic Messages',
      'Rerank',
    ]);
    expect(await endpointTab('Chat').getAttribute('aria-selected')).toBe('true');
    await endpointTab('Embeddings').click();
    const curl = (await page.getByTestId('snippet-embeddings-curl').textContent()) ?? '';
    expect(curl).toContain(`curl ${registry.url}/api/chat/${instanceId}/embeddings`);
    expect(curl).toContain('"model":"fake-model-large"');
    const sdk = (await page.getByTestId('snippet-embeddings-javascript').textContent()) ?? '';
    expect(sdk).toContain(`baseURL: "${registry.url}/api/chat/${instanceId}"`);
    expect(sdk).toContain('client.embeddings.create({');
    expect(await page.getByTestId('snippet-curl').count()).toBe(0);
    // Run by a shell as a reader would paste it: the registry, the agent and the model answer it.
    const { stdout } = await run('bash', ['-c', curl], { timeout: 15_000 });
    const answer = JSON.parse(stdout) as { data: Array<{ embedding: number[] }> };
    expect(answer.data[0].embedding.length).toBeGreaterThan(0);
    const sent = model.requests.filter((r) => r.path === '/v1/embeddings').at(-1);
    expect(sent?.body).toEqual({ model: 'fake-model-large', input: 'The quick brown fox' });
    // The Embeddings tab stays picked for the instance screenshot below.
  });

  it("renders the model's Markdown with markup in it inert: no script, no image, only http(s) links, code with Copy", async () => {
    const before = await page.title();
    await page.getByLabel('Message').fill('[markdown] show me some formatting');
    await page.getByRole('button', { name: 'Send' }).click();
    const answer = answers().nth(2);
    await answer.getByTestId('answer-stats').waitFor();
    expect(await answer.locator('strong').textContent()).toBe('bold');
    expect(await answer.locator('em').textContent()).toBe('emphasis');
    expect(await answer.locator('p code').textContent()).toBe('inline code');
    // The markup arrived as text: shown, never run or loaded.
    expect(await answer.locator('script, img, iframe, [onerror], [onload]').count()).toBe(0);
    expect(await answer.textContent()).toContain("<script>document.title = 'pwned by script'</script>");
    expect(await answer.textContent()).toContain('<img src="/favicon.ico" onerror=');
    const links = answer.locator('a');
    expect(await links.count()).toBe(1);
    expect(await links.getAttribute('href')).toBe('https://example.com/docs');
    expect(await links.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await answer.locator('li').nth(1).textContent()).toBe('a bad link');
    expect(await answer.locator('pre code').textContent()).toBe("console.log('<b>hi</b>');");
    await answer.getByRole('button', { name: 'Copy js' }).click();
    expect(await clipboard()).toBe("console.log('<b>hi</b>');");
    expect(await page.title()).toBe(before);
    await shot('instance');

    await page.getByRole('button', { name: 'Clear' }).click();
    expect(await answers().count()).toBe(0);
  });

  it('Stop cancels the answer at the model', async () => {
    await page.getByLabel('Message').fill('[hang] keep talking');
    await page.getByRole('button', { name: 'Send' }).click();
    await answers().last().getByText('Hello').waitFor();
    const aborted = model.nextAbort(10_000);
    await page.getByRole('button', { name: 'Stop' }).click();
    expect((await aborted).chunksSent).toBe(1);
    await page.getByText('Stopped: the request was cancelled at the model.').waitFor();
  });

  it('shows a failure of the model as an error, not as an answer, and gives the question back', async () => {
    const answered = await answers().count();
    await page.getByLabel('Message').fill('[error500] please fail');
    await page.getByRole('button', { name: 'Send' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(
      /^HTTP 502 · the model host reported an error .*\(host_error\)$/,
    );
    expect(await answers().count()).toBe(answered);
    expect(await page.getByLabel('Message').inputValue()).toBe('[error500] please fail');
  });

  it('says an unknown instance is not found', async () => {
    const other = await context.newPage();
    errors.push(...collectPageErrors(other, [404]));
    await other.goto(`${registry.url}/#/i/no-such-instance`);
    await other.getByRole('heading', { name: 'Instance not found' }).waitFor();
    expect(await other.getByRole('alert').textContent()).toBe(
      "HTTP 404 · instance 'no-such-instance' not found",
    );
    await other.close();
  });

  it('shows the cluster view with this node, its host and its chats', async () => {
    await open('#/cluster');
    const row = page.locator(`tr[data-node="${registry.nodeId}"]`);
    await row.waitFor();
    await eventually(async () => (await row.locator('td').first().textContent()) === '1', 5_000);
    expect(await row.locator('td').nth(3).textContent()).toMatch(/^\d+(\.\d+)? ms$/);
    await shot('cluster');
  });

  it("lists the owner's connected agents (replicas) with the capacity each announced", async () => {
    await open('#/owner');
    const replicas = page.getByTestId('replicas-table');
    await replicas.getByText('console-replica').waitFor();
    expect(await replicas.locator('td[data-label="Capacity"]').innerText()).toBe('3');
    expect(await replicas.locator('td[data-label="Node"]').innerText()).toBe(registry.nodeId);
    await shot('owner-replicas');
  });

  it('shows an answer cut off by the host going away as broken, then a 503 while it is gone', async () => {
    await open(`#/i/${instanceId}`);
    await page.getByLabel('Message').fill('[hang] until the host dies');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByTestId('answer').getByText('Hello').waitFor();
    await agent!.stop('SIGKILL');
    const broken = page.getByRole('alert');
    await broken.waitFor();
    expect(await broken.textContent()).toMatch(/^the answer broke off: .+\(host_disconnected\)$/);
    expect(await page.getByTestId('answer-stats').count()).toBe(0);

    await page.locator('.page-head [data-status="offline"]').waitFor();
    await page.getByLabel('Message').fill('Anyone there?');
    await page.getByRole('button', { name: 'Send' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'HTTP 503' });
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(
      /^HTTP 503 · .+ is not connected \(retry in \d+ s\) \(instance_offline\)$/,
    );
    expect(await alert.getAttribute('data-status')).toBe('503');
  });

  it('lets the owner sign in, edit the description, rotate the password and delete the instance', async () => {
    await open('#/owner');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Instance id').fill(instanceId);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Description').fill('Edited in the owner view');
    await page.getByRole('button', { name: 'Save description' }).click();
    await page.getByText('Description saved.').waitFor();
    expect((await listed(instanceId))?.description).toBe('Edited in the owner view');
    expect(await page.evaluate('localStorage.length')).toBe(0);
    await shot('owner');

    await page.getByRole('button', { name: 'Rotate password' }).click();
    const rotated = (await page.getByTestId('new-password').textContent()) ?? '';
    expect(rotated).not.toBe(password);
    const detail = (pw: string) =>
      fetch(`${registry.url}/api/upload/${instanceId}`, {
        headers: { authorization: `Bearer ${instanceId}:${pw}` },
      });
    expect((await detail(password)).status).toBe(401);
    expect((await detail(rotated)).status).toBe(200);

    await page.getByRole('button', { name: 'Delete instance' }).click();
    await page.getByRole('button', { name: 'Yes, delete it' }).click();
    await page.getByRole('heading', { name: 'Deleted' }).waitFor();
    expect(await listed(instanceId)).toBeUndefined();
    expect((await fetch(`${registry.url}/api/chat/${instanceId}/models`)).status).toBe(404);
  });

  it('fits a 375 px phone screen on every page (no sideways scrolling)', async () => {
    const other = await registerInstance(
      registry.url,
      'A phone-width instance with a rather long name indeed',
    );
    const phone = await browser.newContext({
      viewport: { width: 375, height: 740 },
      isMobile: true,
      hasTouch: true,
    });
    const small = await phone.newPage();
    errors.push(...collectPageErrors(small));
    for (const [name, hash, ready] of [
      ['directory', '#/', `[data-instance="${other.instanceId}"]`],
      ['instance', `#/i/${other.instanceId}`, '.playground'],
      ['register', '#/register', 'form'],
      ['owner', '#/owner', 'form'],
      ['cluster', '#/cluster', 'table'],
    ]) {
      await small.goto(`${registry.url}/${hash}`);
      await small.locator(ready).first().waitFor();
      const widths = await small.evaluate<number[]>(
        '[document.documentElement.scrollWidth, window.innerWidth]',
      );
      expect([name, widths[0]]).toEqual([name, widths[1]]);
      await shot(`phone-${name}`, small);
    }
    await phone.close();
  });

  it('logged no errors in the browser console on any page', () => {
    expect(errors).toEqual([]);
  });
});
