import { applyRequestPolicy, type RequestPolicy } from './request-policy';

const open: RequestPolicy = { pinModel: false, maxN: 1, allowUpstreamOverrides: false };
const messages = [{ role: 'user', content: 'hi' }];

describe('applyRequestPolicy', () => {
  it('passes unknown OpenAI fields through untouched and leaves the input alone', () => {
    const request = {
      messages,
      model: 'caller-model',
      max_tokens: 100,
      tools: [{ type: 'function', function: { name: 'f', parameters: {} } }],
      response_format: { type: 'json_object' },
      extendData: { anything: [1, 2] },
      top_p: 0.5,
    };
    const copy = structuredClone(request);
    const { body, changes } = applyRequestPolicy(request, open);
    expect(body).toEqual(copy);
    expect(changes).toEqual([]);
    expect(request).toEqual(copy);
  });

  it('drops the fields that could redirect the upstream call, whatever their case', () => {
    const { body, changes } = applyRequestPolicy(
      {
        messages,
        api_key: 'sk-caller',
        API_BASE: 'http://evil.example',
        base_url: 'http://evil.example/v1',
        extra_headers: { Authorization: 'Bearer x' },
        extra_query: { a: 1 },
        extra_body: { b: 2 },
        user_config: { model_list: [] },
        aws_secret_access_key: 'x',
        azure_ad_token: 'x',
        vertex_credentials: '{}',
        kv_transfer_params: { remote_host: 'evil' },
        fallbacks: ['gpt-4'],
        tools: [],
      },
      open,
    );
    expect(body).toEqual({ messages, tools: [] });
    expect(changes).toEqual([
      'dropped api_key, API_BASE, base_url, extra_headers, extra_query, extra_body, user_config, ' +
        'aws_secret_access_key, azure_ad_token, vertex_credentials, kv_transfer_params, fallbacks',
    ]);
  });

  it('keeps them with allowUpstreamOverrides', () => {
    const request = { messages, api_key: 'k', api_base: 'http://b' };
    expect(applyRequestPolicy(request, { ...open, allowUpstreamOverrides: true }).body).toEqual(request);
  });

  it('pins the model, or leaves it to the caller when not pinned', () => {
    const pinned = { ...open, model: 'owner-model', pinModel: true };
    expect(applyRequestPolicy({ messages, model: 'gpt-4' }, pinned)).toEqual({
      body: { messages, model: 'owner-model' },
      changes: ['model "gpt-4" -> owner-model'],
    });
    expect(applyRequestPolicy({ messages }, pinned).body.model).toBe('owner-model');
    expect(
      applyRequestPolicy({ messages, model: 'gpt-4' }, { ...open, model: 'owner-model' }).body.model,
    ).toBe('gpt-4');
  });

  it('caps max_tokens, max_completion_tokens and n_predict, keeping smaller values', () => {
    const capped = { ...open, maxTokens: 256 };
    expect(
      applyRequestPolicy({ messages, max_tokens: 100000, max_completion_tokens: 50, n_predict: -1 }, capped),
    ).toEqual({
      body: { messages, max_tokens: 256, max_completion_tokens: 50, n_predict: 256 },
      changes: ['max_tokens 100000 -> 256', 'n_predict -1 -> 256'],
    });
    expect(applyRequestPolicy({ messages, max_tokens: '9999' }, capped).body.max_tokens).toBe(256);
    expect(applyRequestPolicy({ messages, max_tokens: null }, capped).body.max_tokens).toBe(256);
    expect(applyRequestPolicy({ messages, max_tokens: 2.5 }, capped).body.max_tokens).toBe(256);
  });

  it('fills the cap in when the caller asked for no limit', () => {
    expect(applyRequestPolicy({ messages }, { ...open, maxTokens: 64 })).toEqual({
      body: { messages, max_tokens: 64 },
      changes: ['max_tokens set to 64'],
    });
    // max_completion_tokens alone is a limit already: no max_tokens added beside it.
    expect(
      applyRequestPolicy({ messages, max_completion_tokens: 10 }, { ...open, maxTokens: 64 }).body,
    ).toEqual({
      messages,
      max_completion_tokens: 10,
    });
    expect(applyRequestPolicy({ messages }, open).body).toEqual({ messages });
  });

  it('caps n and best_of to maxN', () => {
    expect(applyRequestPolicy({ messages, n: 50, best_of: 8 }, open)).toEqual({
      body: { messages, n: 1, best_of: 1 },
      changes: ['n 50 -> 1', 'best_of 8 -> 1'],
    });
    expect(applyRequestPolicy({ messages, n: 3 }, { ...open, maxN: 4 }).body.n).toBe(3);
    expect(applyRequestPolicy({ messages, n: 0 }, { ...open, maxN: 4 }).body.n).toBe(4);
  });
});
