import { applyChatPolicy, visibleModels } from './chat-policy';

const scope = (models: string[]) => ({ models: new Set(models), firstModel: models[0] });
const run = (
  raw: Record<string, unknown>,
  policy: Parameters<typeof applyChatPolicy>[2],
  key: Parameters<typeof applyChatPolicy>[3] = null,
) => {
  const hostBody: Record<string, unknown> = { max_tokens: 2000, ...raw };
  applyChatPolicy(hostBody, raw, policy, key);
  return hostBody;
};

describe('owner policy and key scope on a chat body', () => {
  it('fills the pinned model in and refuses another one with 403 naming the model', () => {
    expect(run({}, { pinned_model: 'llama3' }).model).toBe('llama3');
    expect(run({ model: 'llama3' }, { pinned_model: 'llama3' }).model).toBe('llama3');
    expect(() => run({ model: 'gpt-4' }, { pinned_model: 'llama3' })).toThrow(
      expect.objectContaining({ status: 403, message: expect.stringContaining("'gpt-4'") }),
    );
  });

  it('allows only the listed models, and a request naming none gets the first', () => {
    expect(run({ model: 'b' }, { allowed_models: ['a', 'b'] }).model).toBe('b');
    expect(run({}, { allowed_models: ['a', 'b'] }).model).toBe('a');
    expect(() => run({ model: 'c' }, { allowed_models: ['a', 'b'] })).toThrow(
      expect.objectContaining({ status: 403 }),
    );
  });

  it("applies the key's model list after the owner's policy", () => {
    expect(run({}, null, scope(['x'])).model).toBe('x');
    expect(() => run({ model: 'y' }, null, scope(['x']))).toThrow(expect.objectContaining({ status: 403 }));
    expect(() => run({}, { pinned_model: 'y' }, scope(['x']))).toThrow(
      expect.objectContaining({ status: 403 }),
    );
  });

  it('holds max_tokens to the ceiling: a larger request is a 422 naming the field, the default is capped', () => {
    expect(run({}, { max_tokens: 100 }).max_tokens).toBe(100);
    expect(run({ max_tokens: 50 }, { max_tokens: 100 }).max_tokens).toBe(50);
    expect(() => run({ max_tokens: 101 }, { max_tokens: 100 })).toThrow(
      expect.objectContaining({ status: 422, details: expect.objectContaining({ param: 'max_tokens' }) }),
    );
    expect(() => run({ max_completion_tokens: 500 }, { max_tokens: 100 })).toThrow(
      expect.objectContaining({ status: 422 }),
    );
  });

  it('leaves a body alone without policy or key', () => {
    expect(run({ model: 'anything', max_tokens: 99999 }, null)).toEqual({
      model: 'anything',
      max_tokens: 99999,
    });
  });

  it('lists the models a caller may use', () => {
    expect(visibleModels(['h1', 'h2'], null, null)).toEqual(['h1', 'h2']);
    expect(visibleModels(['h1'], { pinned_model: 'p' }, null)).toEqual(['p']);
    expect(visibleModels(['h1'], { allowed_models: ['a', 'b'] }, scope(['b']))).toEqual(['b']);
    expect(visibleModels(['h1'], null, scope(['k']))).toEqual(['k']);
  });
});
