import { createHash } from 'node:crypto';
import { request } from 'node:http';
import OpenAI, { toFile } from 'openai';
import { createKey, updateInstance, usage } from '../support/access-keys';
import { TestCluster } from '../support/cluster';
import type { FakeModel } from '../support/fake-model-server';
import type { RunningRegistry } from '../support/processes';
import { RawWsClient } from '../support/raw-ws-client';
import { eventually, instanceDetail, Registered } from '../support/registry-client';

const BODY_LIMIT = 64 * 1024;
/** A few KB of "audio": every byte value, so a byte changed in transit shows. */
const AUDIO = Buffer.from(Array.from({ length: 5_000 }, (_, i) => (i * 7) % 256));
/** POSTs a form with node:http and reads the answer, even one sent before the body was taken. */
async function postAndRead(url: string, form: FormData): Promise<{ status: number; text: string }> {
  const encoded = new Response(form);
  const body = Buffer.from(await encoded.arrayBuffer());
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': encoded.headers.get('content-type')!, 'content-length': body.length },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', () => undefined); // EPIPE: the server stopped reading once it had answered
    req.end(body);
  });
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/**
 * `audio/transcriptions` through the instance's URL with the OpenAI JS SDK (multipart uploads): a
 * public instance whose agent pins its model, a private one called with its key through the node
 * that does not hold its host, the body limit, and the hosts that do not serve it (an agent that
 * did not opt in, a stock Second Me host).
 */
describe('audio transcriptions with the OpenAI SDK (two nodes)', () => {
  let cluster: TestCluster;
  let nodeA: RunningRegistry;
  let nodeB: RunningRegistry;
  let model: FakeModel;
  let open: Registered;
  let closed: Registered;
  let key: string;
  let keyId: string;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      label: 'audio',
      nodes: 2,
      env: { USAGE_FLUSH_MS: '200', BODY_LIMIT_BYTES: String(BODY_LIMIT) },
    });
    [nodeA, nodeB] = cluster.nodes;
    model = await cluster.model({ models: ['fake-model', 'whisper-pinned'] });
    open = await cluster.register('open');
    await cluster.agent(open, model, {
      node: nodeA,
      env: {
        HOST_ENDPOINTS: 'embeddings,transcriptions',
        UPSTREAM_MODEL: 'whisper-pinned',
        HOST_PIN_MODEL: '1',
      },
    });
    closed = await cluster.register('closed');
    await updateInstance(nodeA.url, closed, { visibility: 'private' });
    const issued = await createKey(nodeA.url, closed, { name: 'audio', endpoints: ['transcriptions'] });
    key = issued.key;
    keyId = issued.key_id;
    await cluster.agent(closed, model, { node: nodeA, env: { HOST_ENDPOINTS: 'transcriptions' } });
    await cluster.waitOnline(open);
    await cluster.waitOnline(closed);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  const base = (node: RunningRegistry, id: string) => `${node.url}/api/chat/${id}`;
  const lastUpload = () => model.requests.filter((r) => r.path === '/v1/audio/transcriptions').at(-1)!;

  it('announces transcriptions only where the owner opted in', async () => {
    expect((await instanceDetail(nodeB.url, open)).endpoints).toEqual([
      'chat',
      'embeddings',
      'transcriptions',
    ]);
    expect((await instanceDetail(nodeB.url, closed)).endpoints).toEqual(['chat', 'transcriptions']);
  });

  it("transcribes through a public instance, the agent's pinned model replacing the caller's", async () => {
    const client = new OpenAI({ baseURL: base(nodeB, open.instanceId), apiKey: 'unused', maxRetries: 0 });
    const result = await client.audio.transcriptions.create({
      file: await toFile(AUDIO, 'hello.wav', { type: 'audio/wav' }),
      model: 'whisper-1',
      language: 'en',
    });
    expect(result.text).toBe('heard 5000 bytes of hello.wav (audio/wav) with whisper-pinned');
    const upstream = lastUpload();
    expect(upstream.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(upstream.body).toMatchObject({
      model: 'whisper-pinned',
      language: 'en',
      file: { name: 'hello.wav', type: 'audio/wav', size: AUDIO.length, sha256: sha256(AUDIO) },
    });
  });

  it('transcribes through a private instance with its key, across nodes: json, text, srt, vtt and a stream', async () => {
    const client = new OpenAI({ baseURL: base(nodeB, closed.instanceId), apiKey: key, maxRetries: 0 });
    const file = () => toFile(AUDIO, 'clip.mp3', { type: 'audio/mpeg' });
    const json = await client.audio.transcriptions.create({ file: await file(), model: 'fake-model' });
    expect(json.text).toBe('heard 5000 bytes of clip.mp3 (audio/mpeg) with fake-model');
    expect(lastUpload().body).toMatchObject({ file: { size: AUDIO.length, sha256: sha256(AUDIO) } });

    const text = await client.audio.transcriptions.create({
      file: await file(),
      model: 'fake-model',
      response_format: 'text',
    });
    expect(text).toBe('heard 5000 bytes of clip.mp3 (audio/mpeg) with fake-model\n');
    const srt = await client.audio.transcriptions.create({
      file: await file(),
      model: 'fake-model',
      response_format: 'srt',
    });
    expect(srt).toContain('00:00:00,000 --> ');
    const vtt = await client.audio.transcriptions.create({
      file: await file(),
      model: 'fake-model',
      response_format: 'vtt',
    });
    expect(vtt).toMatch(/^WEBVTT/);

    let deltas = '';
    let done = '';
    for await (const event of await client.audio.transcriptions.create({
      file: await file(),
      model: 'fake-model',
      stream: true,
    })) {
      if (event.type === 'transcript.text.delta') deltas += event.delta;
      if (event.type === 'transcript.text.done') done = event.text;
    }
    expect(deltas).toBe('heard 5000 bytes of clip.mp3 (audio/mpeg) with fake-model');
    expect(done).toBe(deltas);
  });

  it("counts the answers' tokens in the key's usage, under transcriptions", async () => {
    const from = new Date(Date.now() - 3_600_000).toISOString();
    await eventually(async () => {
      const items = await usage(
        nodeA.url,
        closed,
        `granularity=day&from=${from}&key_id=${keyId}&endpoint=transcriptions`,
      );
      const prompt = items.reduce((n, i) => n + i.prompt_tokens, 0);
      const completion = items.reduce((n, i) => n + i.completion_tokens, 0);
      // json and the stream carry usage in tokens (5 in for 5000 bytes, 8 words out); text, srt and vtt none.
      return prompt === 2 * 5 && completion === 2 * 8;
    }, 5_000);
  });

  it("applies the owner's policy to the model field (403 for another, the pinned one filled in)", async () => {
    const policyHolder = await cluster.register('policy');
    await cluster.agent(policyHolder, model, { node: nodeA, env: { HOST_ENDPOINTS: 'transcriptions' } });
    await cluster.waitOnline(policyHolder);
    await updateInstance(nodeA.url, policyHolder, {
      policy: { pinned_model: 'whisper-pinned', max_tokens: 50 },
    });
    const client = new OpenAI({
      baseURL: base(nodeB, policyHolder.instanceId),
      apiKey: 'unused',
      maxRetries: 0,
    });
    await eventually(async () => {
      const refused = await client.audio.transcriptions
        .create({ file: await toFile(AUDIO, 'a.wav'), model: 'other' })
        .then(
          () => null,
          (error: unknown) => error,
        );
      return (refused as { status?: number } | null)?.status === 403;
    }, 2_000);
    const form = new FormData();
    form.append('file', new Blob([AUDIO], { type: 'audio/wav' }), 'a.wav');
    const res = await fetch(`${base(nodeB, policyHolder.instanceId)}/audio/transcriptions`, {
      method: 'POST',
      body: form,
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { text: string }).text).toContain('with whisper-pinned');
    // No token ceiling on a transcription: the owner's max_tokens is not sent.
    expect(lastUpload().body).not.toHaveProperty('max_tokens');
  });

  it('refuses a body over the limit (413), one that is not multipart (415) and one without a file (422)', async () => {
    const url = `${base(nodeB, open.instanceId)}/audio/transcriptions`;
    const before = model.requests.length;
    const big = new FormData();
    big.append('model', 'whisper-1');
    big.append('file', new Blob([Buffer.alloc(BODY_LIMIT + 1)]), 'big.wav');
    // Answered before the body is read (fetch would fail on the upload it could not finish).
    const tooLarge = await postAndRead(url, big);
    expect(tooLarge.status).toBe(413);
    expect(JSON.parse(tooLarge.text)).toMatchObject({ error: { type: 'invalid_request_error' } });

    const notMultipart = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'whisper-1', file: 'x' }),
    });
    expect(notMultipart.status).toBe(415);
    expect(await notMultipart.json()).toMatchObject({
      error: { message: expect.stringContaining('multipart/form-data'), code: 'unsupported_media_type' },
    });

    const noFile = new FormData();
    noFile.append('model', 'whisper-1');
    const missing = await fetch(url, { method: 'POST', body: noFile });
    expect(missing.status).toBe(422);
    expect(await missing.json()).toMatchObject({ error: { code: 'missing_file' } });

    // Multipart stays refused on the JSON endpoints.
    const elsewhere = await fetch(`${base(nodeB, open.instanceId)}/embeddings`, {
      method: 'POST',
      body: noFile,
    });
    expect(elsewhere.status).toBe(415);
    expect(model.requests.length).toBe(before);
  });

  it('answers 501 in OpenAI shape where the host does not serve it: an agent that did not opt in, a stock host', async () => {
    const plain = await cluster.register('plain');
    await cluster.agent(plain, model, { node: nodeA });
    const stock = await cluster.register('stock');
    const host = await RawWsClient.open(
      nodeA.port,
      `/api/ws/${stock.instanceId}?password=${encodeURIComponent(stock.password)}`,
    );
    try {
      host.send(JSON.stringify({ type: 'heartbeat', data: {}, version: '1.0' }));
      await cluster.waitOnline(plain);
      await cluster.waitOnline(stock);
      expect((await instanceDetail(nodeB.url, plain)).endpoints).not.toContain('transcriptions');
      for (const instance of [plain, stock]) {
        const client = new OpenAI({
          baseURL: base(nodeB, instance.instanceId),
          apiKey: 'unused',
          maxRetries: 0,
        });
        await expect(
          client.audio.transcriptions.create({ file: await toFile(AUDIO, 'a.wav'), model: 'whisper-1' }),
        ).rejects.toMatchObject({ status: 501, error: { code: 'endpoint_not_supported' } });
      }
      expect(host.messages.some((m) => m.includes('http_request'))).toBe(false);
    } finally {
      host.destroy();
    }
  });
});
