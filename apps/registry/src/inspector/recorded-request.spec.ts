import { decodeRecordedRequest } from './recorded-request';

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
