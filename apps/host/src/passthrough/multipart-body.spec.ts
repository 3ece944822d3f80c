import { DEFAULT_ENDPOINTS } from '../config';
import { multipartBody } from './multipart-body';

const AUDIO = Buffer.from(Array.from({ length: 2000 }, (_, i) => (i * 13) % 256));

describe('multipartBody', () => {
  it('rebuilds the fields (arrays repeated) and the file, byte for byte', async () => {
    const { body, contentType } = await multipartBody(
      { model: 'pinned', temperature: 0.2, 'timestamp_granularities[]': ['word', 'segment'], skip: null },
      { field: 'file', filename: 'a.wav', content_type: 'audio/wav', data: AUDIO.toString('base64') },
    );
    expect(contentType).toMatch(/^multipart\/form-data; boundary=/);
    const form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
    expect(form.get('model')).toBe('pinned');
    expect(form.get('temperature')).toBe('0.2');
    expect(form.getAll('timestamp_granularities[]')).toEqual(['word', 'segment']);
    expect(form.has('skip')).toBe(false);
    const file = form.get('file') as File;
    expect([file.name, file.type]).toEqual(['a.wav', 'audio/wav']);
    expect(Buffer.from(await file.arrayBuffer()).equals(AUDIO)).toBe(true);
  });
});

describe('--endpoints', () => {
  it('serves every endpoint but transcriptions unless the owner opts in', () => {
    expect(DEFAULT_ENDPOINTS).not.toContain('transcriptions');
    expect(DEFAULT_ENDPOINTS).toContain('embeddings');
  });
});
