import { MAX_UPLOAD_BYTES } from '@app/protocol';
import { startRegistryApp, type InProcessRegistry } from '../support/registry-app';

async function encode(form: FormData): Promise<{ payload: Buffer; contentType: string }> {
  const encoded = new Response(form);
  return {
    payload: Buffer.from(await encoded.arrayBuffer()),
    contentType: encoded.headers.get('content-type')!,
  };
}

/**
 * The multipart route's bounds with a BODY_LIMIT_BYTES larger than any upload may be (64 MiB):
 * the body is not read past the upload cap, and the file is held to MAX_UPLOAD_BYTES.
 */
describe('transcription uploads under a large BODY_LIMIT_BYTES (in process)', () => {
  let registry: InProcessRegistry;
  let id: string;

  beforeAll(async () => {
    registry = await startRegistryApp('pglite', 'upload-limits', {
      BODY_LIMIT_BYTES: String(64 * 1024 * 1024),
    });
    id = (await registry.register('uploads')).id;
  });
  afterAll(async () => {
    await registry?.close();
  });

  const post = async (form: FormData) => {
    const { payload, contentType } = await encode(form);
    return registry.app.inject({
      method: 'POST',
      url: `/api/chat/${id}/audio/transcriptions`,
      headers: { 'content-type': contentType },
      payload,
    });
  };

  it('refuses a body past the upload cap with 413, unread, even below BODY_LIMIT_BYTES', async () => {
    const form = new FormData();
    form.append('file', new Blob([Buffer.alloc(MAX_UPLOAD_BYTES + 5 * 1024 * 1024)]), 'big.wav');
    const res = await post(form);
    expect(res.statusCode).toBe(413);
    // Fastify's own refusal, before the parser (which would have said file_too_large).
    expect(res.json()).toMatchObject({
      error: { type: 'invalid_request_error', message: expect.stringMatching(/body is too large/i) },
    });
  });

  it('refuses a file over 16 MiB with 413 file_too_large', async () => {
    const form = new FormData();
    form.append('file', new Blob([Buffer.alloc(MAX_UPLOAD_BYTES + 1)]), 'big.wav');
    const res = await post(form);
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ error: { code: 'file_too_large' } });
  });

  it('takes a small file on to admission (the instance is offline here: 503)', async () => {
    const form = new FormData();
    form.append('model', 'whisper-1');
    form.append('file', new Blob([Buffer.alloc(1024)]), 'small.wav');
    const res = await post(form);
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ error: { code: 'instance_offline' } });
  });
});
