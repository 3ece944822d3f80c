import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Endpoint, endpointSnippets, ENDPOINTS } from '../../apps/console/src/snippets';
import { createKey, updateInstance } from '../support/access-keys';
import { FakeModel, startFakeModel } from '../support/fake-model-server';
import { RunningRegistry, startAgent, startRegistry, TestProcess } from '../support/processes';
import { registerInstance } from '../support/registry-client';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
/** What the fake model answers with four chunks. */
const WORDS = 'Hello from the fake';
/** A Python with the `openai` and `anthropic` packages; without it the Python snippets are not run. */
const PYTHON = process.env.SNIPPETS_PYTHON;

/**
 * The console's copy-ready snippets, run as a reader would paste them (a private instance's with
 * its key in place of the placeholder): curl by a shell, the JavaScript SDK ones by Node with the
 * real `openai` and `@anthropic-ai/sdk`, the Python ones when SNIPPETS_PYTHON names an interpreter
 * with the SDKs. Every endpoint, through a registry, the real agent and the fake model.
 */
describe('the console snippets, run as written (registry, agent, fake model)', () => {
  let registry: RunningRegistry;
  let model: FakeModel;
  const agents: TestProcess[] = [];
  let scratch = '';
  const instances: Record<'public' | 'private', { id: string; key?: string }> = {
    public: { id: '' },
    private: { id: '' },
  };

  beforeAll(async () => {
    [registry, model] = await Promise.all([
      startRegistry({}),
      startFakeModel({ chunks: 4, models: ['fake-model'] }),
    ]);
    const open = await registerInstance(registry.url, 'snippets public');
    const closed = await registerInstance(registry.url, 'snippets private');
    await updateInstance(registry.url, closed, { visibility: 'private' });
    instances.public = { id: open.instanceId };
    instances.private = {
      id: closed.instanceId,
      key: (await createKey(registry.url, closed, { name: 'snippets' })).key,
    };
    for (const instance of [open, closed])
      agents.push(
        await startAgent({
          registry: registry.url,
          instanceId: instance.instanceId,
          password: instance.password,
          upstream: model.url,
          // Transcriptions are opt-in: these agents serve every endpoint the console has snippets for.
          env: { HOST_ENDPOINTS: 'embeddings,completions,responses,messages,rerank,transcriptions' },
        }),
      );
    // The snippets import 'openai' and '@anthropic-ai/sdk': Node finds them beside the file.
    scratch = mkdtempSync(path.join(tmpdir(), 'console-snippets-'));
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(scratch, 'node_modules'));
    // The file the transcription snippets upload (run with the scratch folder as their directory).
    writeFileSync(path.join(scratch, 'audio.mp3'), Buffer.alloc(3_000, 1));
  });

  afterAll(async () => {
    await Promise.all([...agents.map((agent) => agent.stop()), registry?.proc.stop(), model?.close()]);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const snippets = (endpoint: Endpoint, visibility: 'public' | 'private') => {
    const { id, key } = instances[visibility];
    const [curl, python, javascript] = endpointSnippets(endpoint, registry.url, id, 'fake-model', key);
    return { curl: curl.text, python: python.text, javascript: javascript.text };
  };
  const cases = ENDPOINTS.flatMap((endpoint) =>
    (['public', 'private'] as const).map((visibility) => ({ endpoint, visibility })),
  );
  const lastRequest = (endpoint: Endpoint) => {
    const upstream =
      endpoint === 'chat'
        ? '/v1/chat/completions'
        : endpoint === 'transcriptions'
          ? '/v1/audio/transcriptions'
          : `/v1/${endpoint}`;
    return model.requests.filter((r) => r.path === upstream).at(-1);
  };
  /** What an SDK snippet prints: the answer's text, the embedding's size, the best document, or what the fake model heard. */
  const printed = (endpoint: Endpoint) =>
    endpoint === 'embeddings'
      ? '8 dimensions'
      : endpoint === 'rerank'
        ? 'best: 1'
        : endpoint === 'transcriptions'
          ? expect.stringMatching(/^heard 3000 bytes of audio\.mp3 \(.*\) with fake-model$/)
          : WORDS;

  it.each(cases)(
    '$endpoint, $visibility: the curl snippet is answered by the model',
    async ({ endpoint, visibility }) => {
      const before = model.requests.length;
      const { stdout } = await run('bash', ['-c', snippets(endpoint, visibility).curl], {
        timeout: 20_000,
        cwd: scratch,
      });
      if (endpoint === 'chat') {
        expect(stdout).toContain('data: [DONE]');
        expect(stdout).toContain('"content":"Hello"');
      } else if (endpoint === 'embeddings') {
        expect(
          (JSON.parse(stdout) as { data: Array<{ embedding: number[] }> }).data[0].embedding,
        ).toHaveLength(8);
      } else if (endpoint === 'rerank') {
        // The fox document answers the query best.
        expect((JSON.parse(stdout) as { results: Array<{ index: number }> }).results[0].index).toBe(1);
      } else if (endpoint === 'transcriptions') expect(stdout).toContain('heard 3000 bytes of audio.mp3');
      else expect(stdout).toContain(WORDS);
      expect(model.requests.length).toBeGreaterThan(before);
      expect((lastRequest(endpoint)?.body as { model?: string }).model).toBe('fake-model');
    },
  );

  it.each(cases)(
    '$endpoint, $visibility: the JavaScript SDK snippet runs and prints the answer',
    async ({ endpoint, visibility }) => {
      const file = path.join(scratch, `${endpoint}-${visibility}.mjs`);
      writeFileSync(file, snippets(endpoint, visibility).javascript);
      const { stdout } = await run(process.execPath, [file], { timeout: 20_000, cwd: scratch });
      expect(stdout.trim()).toEqual(printed(endpoint));
    },
  );

  (PYTHON ? it.each(cases) : it.skip.each(cases))(
    '$endpoint, $visibility: the Python SDK snippet runs and prints the answer (SNIPPETS_PYTHON)',
    async ({ endpoint, visibility }) => {
      const { stdout } = await run(PYTHON!, ['-c', snippets(endpoint, visibility).python], {
        timeout: 20_000,
        cwd: scratch,
      });
      expect(stdout.trim()).toEqual(printed(endpoint));
    },
  );
});
