import { publicModels, servedEndpoints } from './public-models';

describe('publicModels', () => {
  const named = { model_name: 'llama3' };

  it("lists what the host announced, not a registered name the host's model server does not serve", () => {
    expect(publicModels({ hostModels: ['qwen3', 'gemma3', 'qwen3'], config: named })).toEqual([
      'qwen3',
      'gemma3',
    ]);
    expect(publicModels({ hostModels: ['llama3', 'qwen3'], config: named })).toEqual(['llama3', 'qwen3']);
  });

  it('lists nothing when the host announced that its model server serves nothing', () => {
    expect(publicModels({ hostModels: [], config: named })).toEqual([]);
  });

  it('lists the registered name until a host announces (never connected, or a stock host without hello)', () => {
    expect(publicModels({ hostModels: null, config: named })).toEqual(['llama3']);
    expect(publicModels({ hostModels: null, config: {} })).toEqual([]);
    expect(publicModels(null)).toEqual([]);
  });

  it('ignores what is not a model id', () => {
    expect(publicModels({ hostModels: ['m1', '', 7, null], config: null })).toEqual(['m1']);
  });
});

describe('servedEndpoints', () => {
  it('lists chat always and the announced endpoints it knows, in a fixed order', () => {
    expect(servedEndpoints({ hostEndpoints: null, policy: null })).toEqual(['chat']);
    expect(
      servedEndpoints({ hostEndpoints: ['messages', 'audio/speech', 'rerank', 'embeddings'], policy: null }),
    ).toEqual(['chat', 'embeddings', 'messages', 'rerank']);
  });

  it("leaves out the endpoints the owner's policy does not allow, chat included", () => {
    const hostEndpoints = ['embeddings', 'completions', 'rerank'];
    expect(servedEndpoints({ hostEndpoints, policy: { endpoints: ['chat', 'rerank', 'messages'] } })).toEqual(
      ['chat', 'rerank'],
    );
    expect(servedEndpoints({ hostEndpoints, policy: { endpoints: ['embeddings'] } })).toEqual(['embeddings']);
    expect(servedEndpoints({ hostEndpoints, policy: { max_tokens: 5 } })).toEqual([
      'chat',
      'embeddings',
      'completions',
      'rerank',
    ]);
  });
});
