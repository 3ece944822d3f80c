import { decodeHostFrame, decodeRegistryFrame } from './decode';
import { forwardedHeaders, readHttpTarget } from './http-frames';

describe('http frames', () => {
  it('decodes an http_request on the allow-list, keeping only the forwarded headers', () => {
    const decoded = decodeRegistryFrame(
      JSON.stringify({
        type: 'http_request',
        request_id: 'r1',
        method: 'POST',
        path: 'v1/messages',
        headers: { 'anthropic-version': '2023-06-01', authorization: 'Bearer secret', cookie: 'x' },
        body: { messages: [] },
      }),
    );
    expect(decoded).toEqual({
      ok: true,
      frame: {
        type: 'http_request',
        request_id: 'r1',
        method: 'POST',
        path: 'v1/messages',
        headers: { 'anthropic-version': '2023-06-01' },
        body: { messages: [] },
      },
    });
  });

  it.each([
    { path: '../admin', method: 'POST', body: {} },
    { path: 'audio/transcriptions', method: 'POST', body: {} },
    { path: 'embeddings', method: 'GET', body: {} },
    { path: 'embeddings', method: 'POST', body: [1] },
  ])('refuses an http_request outside the allow-lists: %j', (fields) => {
    const decoded = decodeRegistryFrame(JSON.stringify({ type: 'http_request', request_id: 'r', ...fields }));
    expect(decoded).toEqual({ ok: false, reason: 'invalid_fields' });
  });

  it('decodes the response frames and refuses a bad status or body', () => {
    expect(
      decodeHostFrame(
        '{"type":"http_response_head","request_id":"r","status":200,"content_type":"application/json"}',
      ),
    ).toMatchObject({ ok: true, frame: { status: 200, content_type: 'application/json' } });
    expect(decodeHostFrame('{"type":"http_response_body","request_id":"r","data":"{}"}')).toMatchObject({
      ok: true,
    });
    expect(decodeHostFrame('{"type":"http_response_end","request_id":"r","error":"x"}')).toMatchObject({
      ok: true,
      frame: { error: 'x' },
    });
    expect(decodeHostFrame('{"type":"http_response_head","request_id":"r","status":99}').ok).toBe(false);
    expect(decodeHostFrame('{"type":"http_response_body","request_id":"r","data":5}').ok).toBe(false);
  });

  it('reads the endpoints a hello announces, known ones only', () => {
    const decoded = decodeHostFrame(
      JSON.stringify({
        type: 'hello',
        capabilities: { concurrency: 2, endpoints: ['embeddings', 'rm -rf', 'messages'] },
      }),
    );
    expect(decoded).toMatchObject({
      ok: true,
      frame: { capabilities: { endpoints: ['embeddings', 'messages'] } },
    });
  });

  it('bounds forwarded header values and reads a bus target strictly', () => {
    expect(forwardedHeaders({ accept: 'x'.repeat(1000) }).accept).toHaveLength(256);
    expect(readHttpTarget({ endpoint: 'toString', headers: {} })).toBeNull();
    expect(readHttpTarget({ endpoint: 'responses', headers: { host: 'evil' } })).toEqual({
      endpoint: 'responses',
      headers: {},
    });
  });
});
