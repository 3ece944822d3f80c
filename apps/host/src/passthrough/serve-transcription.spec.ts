import type { HttpResponseFrame } from '@app/protocol';
import { eventually } from '../../../../test/support/eventually';
import { HostAgentHarness, PASSWORD } from '../../../../test/support/fake-registry';

const AUDIO = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 11) % 256));

describe('HostAgent serving audio/transcriptions (in process, fake registry and fake model)', () => {
  const h = new HostAgentHarness();
  beforeAll(() => h.start());
  afterEach(async () => {
    expect(await h.cleanUp()).not.toContain(PASSWORD);
  });
  afterAll(() => h.close());

  const transcription = (requestId: string) => ({
    type: 'http_request' as const,
    request_id: requestId,
    method: 'POST' as const,
    path: 'audio/transcriptions' as const,
    headers: {},
    body: { model: 'whisper-1', response_format: 'json' },
    upload: { field: 'file', filename: 'a.wav', content_type: 'audio/wav', data: AUDIO.toString('base64') },
  });
  const answer = (registry: { frames: Array<{ frame: unknown }> }, requestId: string) =>
    registry.frames
      .map((f) => f.frame as HttpResponseFrame)
      .filter((f) => f.type.startsWith('http_response') && f.request_id === requestId);

  it('does not announce or serve transcriptions unless the owner listed them', async () => {
    const registry = await h.newRegistry();
    h.newAgent([registry.url]);
    await eventually(() => registry.frames.some((f) => f.frame.type === 'hello'), 3000);
    const before = h.model.requests.length;
    registry.send(0, transcription('t1'));
    await eventually(() => answer(registry, 't1').length > 0, 3000);
    expect(answer(registry, 't1')).toEqual([
      {
        type: 'http_response_end',
        request_id: 't1',
        error: 'path audio/transcriptions is not served by this agent (see --endpoints)',
      },
    ]);
    expect(h.model.requests.length).toBe(before);
  });

  it('posts the upload as multipart with the pinned model and relays the answer', async () => {
    const registry = await h.newRegistry();
    h.newAgent([registry.url], { endpoints: ['transcriptions'], pinModel: true, model: 'm2' });
    await eventually(() => registry.frames.some((f) => f.frame.type === 'hello'), 3000);
    registry.send(0, transcription('t2'));
    await eventually(() => answer(registry, 't2').some((f) => f.type === 'http_response_end'), 3000);
    const frames = answer(registry, 't2');
    expect(frames[0]).toMatchObject({
      type: 'http_response_head',
      status: 200,
      content_type: 'application/json',
    });
    const text = frames.flatMap((f) => (f.type === 'http_response_body' ? [f.data] : [])).join('');
    expect(JSON.parse(text)).toMatchObject({ text: 'heard 3000 bytes of a.wav (audio/wav) with m2' });
    expect(frames.at(-1)).toEqual({ type: 'http_response_end', request_id: 't2' });
    const upstream = h.model.requests.filter((r) => r.path === '/v1/audio/transcriptions').at(-1)!;
    expect(upstream.body).toMatchObject({
      model: 'm2',
      response_format: 'json',
      file: { size: AUDIO.length },
    });
  });
});
