import type { RequestPolicy } from '../request-policy';
import { applyEndpointPolicy } from './endpoint-policy';
import { upstreamPath } from './serve-http';

const owner: RequestPolicy = {
  model: 'owner-model',
  pinModel: true,
  maxTokens: 64,
  maxN: 1,
  allowUpstreamOverrides: false,
};

describe('applyEndpointPolicy', () => {
  it('holds Responses to --max-tokens on max_output_tokens, filled in when absent', () => {
    expect(applyEndpointPolicy('responses', { input: 'hi' }, owner).body).toEqual({
      input: 'hi',
      model: 'owner-model',
      max_output_tokens: 64,
    });
    expect(
      applyEndpointPolicy('responses', { input: 'hi', max_output_tokens: 9000 }, owner).body,
    ).toMatchObject({
      max_output_tokens: 64,
    });
    expect(
      applyEndpointPolicy('responses', { input: 'hi', max_output_tokens: 10 }, owner).body,
    ).toMatchObject({
      max_output_tokens: 10,
    });
  });

  it('holds completions and Anthropic messages on max_tokens', () => {
    expect(applyEndpointPolicy('completions', { prompt: 'x', max_tokens: -1 }, owner).body).toMatchObject({
      max_tokens: 64,
    });
    expect(applyEndpointPolicy('messages', { messages: [], max_tokens: 5000 }, owner).body).toMatchObject({
      max_tokens: 64,
    });
  });

  it('adds no token field to embeddings, and pins the model and drops overrides everywhere', () => {
    const { body } = applyEndpointPolicy(
      'embeddings',
      { input: 'x', model: 'other', api_base: 'http://evil.example' },
      owner,
    );
    expect(body).toEqual({ input: 'x', model: 'owner-model' });
  });

  it('changes nothing without an owner policy', () => {
    const open: RequestPolicy = { pinModel: false, maxN: 1, allowUpstreamOverrides: false };
    expect(applyEndpointPolicy('responses', { input: 'x', max_output_tokens: 99999 }, open).body).toEqual({
      input: 'x',
      max_output_tokens: 99999,
    });
  });
});

describe('upstreamPath', () => {
  it('sends v1/messages from the origin and the rest below the /v1 base', () => {
    expect(upstreamPath('v1/messages')).toBe('/v1/messages');
    expect(upstreamPath('embeddings')).toBe('embeddings');
  });
});
