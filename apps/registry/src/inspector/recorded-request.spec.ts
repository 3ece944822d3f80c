import { decodeRecordedRequest } from './recorded-request';
import { endedChat } from './request-rows';

const row = {
  id: 'r1',
  at: 1_700_000_000_000,
  endpoint: '/api/chat/i',
  model: 'llama3',
  key_id: null,
  status: 200,
  code: null,
  outcome: 'answered',
  ttft_ms: 12,
  duration_ms: 40,
  tokens_in: 3,
  tokens_out: 9,
  node: 'b',
  served_by_node: 'a',
  replica: '',
  caller: '203.0.113.0/24',
  request_id: 'trace-1234567890',
};

describe('decodeRecordedRequest', () => {
  it('keeps a well-formed row and only its known fields', () => {
    expect(decodeRecordedRequest({ ...row, extra: 'x'.repeat(10) })).toEqual(row);
  });

  it.each([
    ['a missing field', { ...row, caller: undefined }],
    ['a wrong type', { ...row, status: '200' }],
    ['an unknown outcome', { ...row, outcome: 'exploded' }],
    ['not an object', 'row'],
  ])('drops %s', (_label, value) => {
    expect(decodeRecordedRequest(value)).toBeNull();
  });
});

describe('a recorded model name', () => {
  it('is cut to 100 characters', () => {
    const facts = {
      id: 'r',
      endpoint: '/api/chat/{id}',
      model: 'm'.repeat(5_000),
      keyId: null,
      ip: '::1',
      node: 'n',
      requestId: null,
    };
    const summary = {
      requestId: 'r',
      outcome: 'completed' as const,
      registryMs: 1,
      firstChunkMs: 2,
      durationMs: 3,
      promptTokens: 0,
      completionTokens: 0,
      status: 200,
    };
    expect(endedChat(facts, summary, undefined, 0).model).toHaveLength(100);
    expect(endedChat({ ...facts, model: 42 }, summary, undefined, 0).model).toBeNull();
  });
});
