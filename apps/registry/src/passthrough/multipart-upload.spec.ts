import { capturedRequest, MAX_FIELDS, multipartOf, MULTIPART, readMultipart } from './multipart-upload';
import { placeTokenCeiling } from './token-field';
import { UsageReader } from './usage-reader';

async function encode(form: FormData): Promise<{ body: Buffer; contentType: string }> {
  const encoded = new Response(form);
  return {
    body: Buffer.from(await encoded.arrayBuffer()),
    contentType: encoded.headers.get('content-type')!,
  };
}

const AUDIO = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));

describe('readMultipart', () => {
  it('reads the text fields (a repeated one as an array) and the file, in base64', async () => {
    const form = new FormData();
    form.append('model', 'whisper-1');
    form.append('timestamp_granularities[]', 'word');
    form.append('timestamp_granularities[]', 'segment');
    form.append('file', new Blob([AUDIO], { type: 'audio/wav' }), 'a\nb.wav');
    const { body, contentType } = await encode(form);
    const parsed = await readMultipart(body, contentType);
    expect({ ...parsed.fields }).toEqual({
      model: 'whisper-1',
      'timestamp_granularities[]': ['word', 'segment'],
    });
    expect(parsed.upload).toMatchObject({ field: 'file', content_type: 'audio/wav' });
    expect(parsed.upload.filename).not.toContain('\n');
    expect(Buffer.from(parsed.upload.data, 'base64').equals(AUDIO)).toBe(true);
    expect(parsed.heldBytes).toBeGreaterThan(parsed.upload.data.length);
  });

  it.each([
    ['no file', (form: FormData) => form.append('model', 'm'), 422, 'missing_file'],
    [
      'two files',
      (form: FormData) => {
        form.append('file', new Blob([AUDIO]), 'a.wav');
        form.append('file', new Blob([AUDIO]), 'b.wav');
      },
      422,
      'invalid_multipart',
    ],
    [
      'a file in another field',
      (form: FormData) => form.append('audio', new Blob([AUDIO]), 'a.wav'),
      422,
      'invalid_multipart',
    ],
    [
      'too many fields',
      (form: FormData) => {
        for (let i = 0; i <= MAX_FIELDS; i++) form.append(`f${i}`, 'x');
        form.append('file', new Blob([AUDIO]), 'a.wav');
      },
      422,
      'invalid_multipart',
    ],
  ])('refuses %s with a clear client error', async (_label, fill, statusCode, code) => {
    const form = new FormData();
    fill(form);
    const { body, contentType } = await encode(form);
    await expect(readMultipart(body, contentType)).rejects.toMatchObject({ statusCode, code });
  });

  it('refuses a body that is not the multipart its Content-Type says', async () => {
    await expect(
      readMultipart(Buffer.from('not multipart'), 'multipart/form-data; boundary=x'),
    ).rejects.toMatchObject({ statusCode: 422, code: 'invalid_multipart' });
  });

  it('keeps the parsed body under a symbol the JSON body checks do not walk', async () => {
    const form = new FormData();
    form.append('file', new Blob([AUDIO]), 'a.wav');
    const { body, contentType } = await encode(form);
    const parsed = await readMultipart(body, contentType);
    const requestBody = { ...parsed.fields, [MULTIPART]: parsed };
    expect(Object.keys(requestBody)).toEqual([]);
    expect(multipartOf(requestBody)).toBe(parsed);
    expect(multipartOf({ model: 'm' })).toBeUndefined();
    // The owner's capture names the file and its size, never its bytes.
    expect(JSON.parse(capturedRequest({ model: 'm' }, parsed))).toEqual({
      model: 'm',
      file: { filename: 'a.wav', content_type: 'application/octet-stream', bytes: AUDIO.length },
    });
  });
});

describe('transcriptions: tokens and the ceiling', () => {
  it("reads OpenAI's token usage of a transcription, JSON or streamed; a duration counts none", () => {
    const json = new UsageReader(false, 1 << 20);
    json.add(JSON.stringify({ text: 'hi', usage: { type: 'tokens', input_tokens: 14, output_tokens: 3 } }));
    expect(json.end()).toEqual({ prompt: 14, completion: 3 });
    const stream = new UsageReader(true, 1 << 20);
    stream.add('data: {"type":"transcript.text.delta","delta":"hi"}\n\n');
    stream.add(
      'data: {"type":"transcript.text.done","text":"hi","usage":{"type":"tokens","input_tokens":14,"output_tokens":3}}\n\n',
    );
    expect(stream.end()).toEqual({ prompt: 14, completion: 3 });
    const duration = new UsageReader(false, 1 << 20);
    duration.add(JSON.stringify({ text: 'hi', usage: { type: 'duration', seconds: 9 } }));
    expect(duration.end()).toEqual({ prompt: 0, completion: 0 });
  });

  it("sends no token ceiling with a transcription (the caller's own fields go on)", () => {
    const filled: Record<string, unknown> = { model: 'm', max_tokens: 64 };
    placeTokenCeiling('transcriptions', filled, { model: 'm' });
    expect(filled).toEqual({ model: 'm' });
  });
});
