import { decodeRegistryFrame } from './decode';
import { MAX_UPLOAD_BASE64_CHARS, MAX_UPLOAD_BYTES, readHttpTarget } from './http-frames';

const upload = { field: 'file', filename: 'a.wav', content_type: 'audio/wav', data: 'UklGRg==' };
const request = (fields: Record<string, unknown>) =>
  decodeRegistryFrame(
    JSON.stringify({
      type: 'http_request',
      request_id: 'r',
      method: 'POST',
      headers: {},
      body: {},
      ...fields,
    }),
  );

describe('uploads in http frames (audio/transcriptions)', () => {
  it('decodes a transcription request with its file', () => {
    expect(request({ path: 'audio/transcriptions', body: { model: 'whisper-1' }, upload })).toEqual({
      ok: true,
      frame: {
        type: 'http_request',
        request_id: 'r',
        method: 'POST',
        path: 'audio/transcriptions',
        headers: {},
        body: { model: 'whisper-1' },
        upload,
      },
    });
  });

  it.each([
    ['a transcription without its file', { path: 'audio/transcriptions' }],
    ['a file on a JSON endpoint', { path: 'embeddings', upload }],
    ['a file without data', { path: 'audio/transcriptions', upload: { ...upload, data: 5 } }],
    ['a file without a field name', { path: 'audio/transcriptions', upload: { ...upload, field: '' } }],
    [
      'a file over the upload limit',
      { path: 'audio/transcriptions', upload: { ...upload, data: 'A'.repeat(MAX_UPLOAD_BASE64_CHARS + 4) } },
    ],
  ])('refuses %s', (_label, fields) => {
    expect(request(fields)).toEqual({ ok: false, reason: 'invalid_fields' });
  });

  it('keeps a file name to one line and 256 characters (it becomes a multipart header)', () => {
    const decoded = request({
      path: 'audio/transcriptions',
      upload: { ...upload, filename: `a\r\nContent-Type: evil${'x'.repeat(300)}.wav` },
    });
    expect(decoded.ok && decoded.frame.type === 'http_request' && decoded.frame.upload?.filename).toBe(
      `aContent-Type: evil${'x'.repeat(300)}`.slice(0, 256),
    );
  });

  it('carries the file across nodes in the target, and only for an upload endpoint', () => {
    expect(readHttpTarget({ endpoint: 'transcriptions', headers: {}, upload })).toEqual({
      endpoint: 'transcriptions',
      headers: {},
      upload,
    });
    expect(readHttpTarget({ endpoint: 'transcriptions', headers: {} })).toBeNull();
    expect(readHttpTarget({ endpoint: 'embeddings', headers: {}, upload })).toBeNull();
  });

  it("sizes the limit so the base64 fits the agent's frame and a Redis subscriber's buffer", () => {
    expect(MAX_UPLOAD_BASE64_CHARS).toBeGreaterThanOrEqual((MAX_UPLOAD_BYTES * 4) / 3);
    expect(MAX_UPLOAD_BASE64_CHARS).toBeLessThan(32 * 1000 * 1000 - 8 * 1024 * 1024);
  });
});
