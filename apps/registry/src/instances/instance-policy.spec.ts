import { asPolicy } from './instance-policy';

describe('asPolicy', () => {
  it('reads the stored JSON, endpoints included, and drops what is not of its type', () => {
    expect(asPolicy(null)).toBeNull();
    expect(asPolicy({})).toBeNull();
    expect(asPolicy({ endpoints: null })).toBeNull();
    expect(asPolicy({ endpoints: ['chat', 7, 'rerank'], max_tokens: 5 })).toEqual({
      endpoints: ['chat', 'rerank'],
      max_tokens: 5,
    });
    expect(asPolicy({ pinned_model: 'm', endpoints: 'chat' })).toEqual({ pinned_model: 'm' });
  });
});
