import fc from 'fast-check';
import { HELLO_LIMITS, MODEL_STATUS_DETAIL_CHARS, decodeHostFrame, decodeRegistryFrame } from './decode';

const anyText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('utf8')),
);
const nested = fc
  .tuple(fc.integer({ min: 1, max: 20_000 }), fc.boolean())
  .map(([depth, arrays]) =>
    arrays ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
  );
const HOST_TYPES = ['heartbeat', 'hello', 'chat_response', 'model_status'];
const REGISTRY_TYPES = ['heartbeat_ack', 'chat', 'cancel', 'goaway'];
const frameLike = (types: string[]) =>
  fc
    .record(
      {
        type: fc.oneof(fc.constantFrom(...types, 'unknown', ''), fc.anything()),
        request_id: fc.anything(),
        request: fc.anything(),
        raw_sse: fc.anything(),
        raw_sse_batch: fc.oneof(fc.array(fc.string()), fc.anything()),
        done: fc.anything(),
        error: fc.anything(),
        capabilities: fc.anything(),
        reason: fc.anything(),
        status: fc.oneof(fc.constantFrom('ok', 'unreachable', 'error'), fc.anything()),
        detail: fc.anything(),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v));

describe('frame decoders under hostile input', () => {
  it.each([
    ['decodeHostFrame', decodeHostFrame, HOST_TYPES],
    ['decodeRegistryFrame', decodeRegistryFrame, REGISTRY_TYPES],
  ] as const)('%s never throws, and accepts only frames of a known type', (_name, decode, types) => {
    fc.assert(
      fc.property(fc.oneof(anyText, nested, frameLike([...types])), (text) => {
        const decoded = decode(text);
        if (decoded.ok) expect(types).toContain(decoded.frame.type);
        else
          expect(['malformed_json', 'not_an_object', 'unknown_type', 'invalid_fields']).toContain(
            decoded.reason,
          );
      }),
      { numRuns: 500 },
    );
  });

  it('names why a frame was dropped', () => {
    expect(decodeHostFrame('{not json')).toEqual({ ok: false, reason: 'malformed_json' });
    for (const text of ['null', '42', '"x"', '[]', '[{"type":"heartbeat"}]'])
      expect(decodeHostFrame(text)).toEqual({ ok: false, reason: 'not_an_object' });
    expect(decodeHostFrame('{"type":"chat"}')).toEqual({ ok: false, reason: 'unknown_type' });
    expect(decodeHostFrame('{}')).toEqual({ ok: false, reason: 'unknown_type' });
    expect(decodeRegistryFrame('{"type":"chat_response","request_id":"r"}')).toEqual({
      ok: false,
      reason: 'unknown_type',
    });
  });

  it('accepts a chat_response only with a string request_id and well-typed payload fields', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            request_id: fc.anything(),
            raw_sse: fc.anything(),
            raw_sse_batch: fc.anything(),
            error: fc.anything(),
          },
          { requiredKeys: [] },
        ),
        (fields) => {
          const decoded = decodeHostFrame(JSON.stringify({ type: 'chat_response', ...fields }));
          // What the scheduler relies on once a frame is accepted.
          const sent = JSON.parse(JSON.stringify(fields)) as Record<string, unknown>;
          const valid =
            typeof sent.request_id === 'string' &&
            (sent.raw_sse === undefined || typeof sent.raw_sse === 'string') &&
            (sent.raw_sse_batch === undefined ||
              (Array.isArray(sent.raw_sse_batch) &&
                sent.raw_sse_batch.every((l) => typeof l === 'string'))) &&
            (sent.error === undefined || sent.error === null || typeof sent.error === 'string');
          expect(decoded.ok).toBe(valid);
          if (!valid) expect(decoded).toEqual({ ok: false, reason: 'invalid_fields' });
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('round-trips every well-formed frame', () => {
    const id = fc.string({ minLength: 1, maxLength: 40 });
    const hostFrames = fc.oneof(
      fc.record({ type: fc.constant('heartbeat' as const), data: fc.record({ timestamp: fc.nat() }) }),
      fc.record({
        type: fc.constant('hello' as const),
        capabilities: fc.record({
          concurrency: fc.nat(),
          cancel: fc.boolean(),
          models: fc.array(fc.string()),
        }),
      }),
      fc.record({
        type: fc.constant('chat_response' as const),
        request_id: id,
        raw_sse: fc.string(),
        done: fc.boolean(),
      }),
      fc.record({
        type: fc.constant('chat_response' as const),
        request_id: id,
        raw_sse_batch: fc.array(fc.string()),
      }),
      fc.record({ type: fc.constant('chat_response' as const), request_id: id, error: fc.string() }),
      fc.record({
        type: fc.constant('model_status' as const),
        status: fc.constantFrom('ok' as const, 'unreachable' as const, 'error' as const),
        detail: fc.string({ unit: fc.constantFrom('a', 'B', ' ', ':', '1', 'é'), maxLength: 300 }),
      }),
    );
    fc.assert(
      fc.property(hostFrames, (frame) => {
        expect(decodeHostFrame(JSON.stringify(frame))).toEqual({ ok: true, frame });
      }),
    );
    const registryFrames = fc.oneof(
      fc.record({ type: fc.constant('heartbeat_ack' as const) }),
      fc.record({
        type: fc.constant('chat' as const),
        request_id: id,
        request: fc.record({ messages: fc.array(fc.record({ role: fc.string(), content: fc.string() })) }),
      }),
      fc.record({ type: fc.constant('cancel' as const), request_id: id }),
      fc.record({ type: fc.constant('goaway' as const), reason: fc.string() }),
    );
    fc.assert(
      fc.property(registryFrames, (frame) => {
        expect(decodeRegistryFrame(JSON.stringify(frame))).toEqual({ ok: true, frame });
      }),
    );
  });

  it('bounds what a hello may carry: long model names are dropped, a long list is cut', () => {
    const long = 'm'.repeat(HELLO_LIMITS.modelNameChars + 1);
    const many = Array.from({ length: 1_000 }, (_, i) => `model-${i}`);
    const decoded = decodeHostFrame(
      JSON.stringify({
        type: 'hello',
        agent: 'a'.repeat(10_000),
        capabilities: { concurrency: 4, cancel: true, models: ['ok', long, 7, ...many] },
      }),
    );
    if (!decoded.ok || decoded.frame.type !== 'hello') throw new Error('hello not decoded');
    const models = decoded.frame.capabilities!.models!;
    expect(models.slice(0, 2)).toEqual(['ok', 'model-0']);
    expect(models).toHaveLength(HELLO_LIMITS.models);
    expect(decoded.frame.agent).toHaveLength(HELLO_LIMITS.agentChars);

    const huge = Array.from({ length: 150 }, (_, i) => `${i}`.padStart(HELLO_LIMITS.modelNameChars, 'x'));
    const cut = decodeHostFrame(JSON.stringify({ type: 'hello', capabilities: { models: huge } }));
    if (!cut.ok || cut.frame.type !== 'hello') throw new Error('hello not decoded');
    const total = cut.frame.capabilities!.models!.join('').length;
    expect(total).toBeLessThanOrEqual(HELLO_LIMITS.modelsTotalChars);
    expect(total).toBeGreaterThan(HELLO_LIMITS.modelsTotalChars - HELLO_LIMITS.modelNameChars);
  });

  it('bounds a model_status frame: a known status, detail printable and cut', () => {
    const decoded = decodeHostFrame(
      JSON.stringify({
        type: 'model_status',
        status: 'unreachable',
        detail: `a\u0000b\nc\u001b[31m${'x'.repeat(5_000)}`,
      }),
    );
    if (!decoded.ok || decoded.frame.type !== 'model_status') throw new Error('model_status not decoded');
    expect(decoded.frame.status).toBe('unreachable');
    expect(decoded.frame.detail).toHaveLength(MODEL_STATUS_DETAIL_CHARS);
    expect(decoded.frame.detail!.startsWith('a b c [31mxx')).toBe(true);
    for (const bad of [{ status: 'down' }, { status: 'ok', detail: 7 }, {}])
      expect(decodeHostFrame(JSON.stringify({ type: 'model_status', ...bad }))).toEqual({
        ok: false,
        reason: 'invalid_fields',
      });
    expect(decodeHostFrame('{"type":"hello","capabilities":{"health":true}}')).toMatchObject({
      ok: true,
      frame: { capabilities: { health: true } },
    });
  });
});
