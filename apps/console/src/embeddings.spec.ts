import { ApiFailure } from './api';
import { readEmbedding } from './embeddings';

describe('readEmbedding', () => {
  it('gives the vector size, its first eight values rounded, and the prompt tokens', () => {
    const embedding = Array.from({ length: 12 }, (_, i) => i / 3);
    const result = readEmbedding({ data: [{ embedding }], usage: { prompt_tokens: 5 } }, 12.6);
    expect(result).toEqual({
      dimensions: 12,
      head: [0, 0.3333, 0.6667, 1, 1.3333, 1.6667, 2, 2.3333],
      promptTokens: 5,
      ms: 13,
    });
  });

  it('says when the model server sent no usage', () => {
    expect(readEmbedding({ data: [{ embedding: [0.5] }] }, 1).promptTokens).toBeNull();
  });

  it('refuses an answer without a numeric vector', () => {
    expect(() => readEmbedding({ data: [] }, 1)).toThrow(ApiFailure);
    expect(() => readEmbedding({ data: [{ embedding: ['a'] }] }, 1)).toThrow(/no embedding/);
  });
});
