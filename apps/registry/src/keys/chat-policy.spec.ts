import { ApiError } from '../common/http-errors';
import { applyChatPolicy, assertEndpointAllowed, visibleModels } from './chat-policy';

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

  describe('binds every token field a common model server reads to the ceiling', () => {
    const fields: Array<[string, (n: unknown) => Record<string, unknown>]> = [
      ['max_tokens', (n) => ({ max_tokens: n })],
      ['max_completion_tokens', (n) => ({ max_completion_tokens: n })],
      ['max_output_tokens', (n) => ({ max_output_tokens: n })],
      ['n_predict', (n) => ({ n_predict: n })],
      ['max_new_tokens', (n) => ({ max_new_tokens: n })],
      ['num_predict', (n) => ({ num_predict: n })],
      ['options.num_predict', (n) => ({ options: { temperature: 0, num_predict: n } })],
      ['parameters.max_new_tokens', (n) => ({ parameters: { max_new_tokens: n } })],
    ];
    const policy = { max_tokens: 100 };
    const refusal = (param: string) =>
      expect.objectContaining({
        status: 422,
        details: expect.objectContaining({ param }),
        message: expect.stringContaining('from 1 to 100'),
      });

    it.each(fields)('%s: a whole number from 1 to the ceiling goes to the host as sent', (_, body) => {
      for (const n of [1, 37, 100]) expect(run(body(n), policy)).toMatchObject({ ...body(n) });
    });

    it.each(fields)(
      '%s: above the ceiling, as a string, a fraction, 0 or negative is a 422 naming it',
      (param, body) => {
        // "100000" is what vLLM coerces; -1 and 0 mean "no limit" to llama.cpp and Ollama.
        for (const n of [101, 100_000, '100000', '50', 50.5, 0, -1, true, [50], { n: 50 }, 1e300])
          expect(() => run(body(n), policy)).toThrow(refusal(param));
      },
    );

    it.each(fields)(
      '%s: null counts as absent (the servers read it so) and max_tokens carries the ceiling',
      (_, body) => {
        expect(run(body(null), policy).max_tokens).toBe(100);
      },
    );

    it('keeps a smaller max_tokens next to other fields, and fills the ceiling in when none was given', () => {
      expect(run({ n_predict: 20 }, policy)).toMatchObject({ n_predict: 20, max_tokens: 100 });
      expect(run({ n_predict: 20, max_tokens: 30 }, policy)).toMatchObject({ n_predict: 20, max_tokens: 30 });
      const withoutDefault: Record<string, unknown> = { messages: [] };
      applyChatPolicy(withoutDefault, { messages: [] }, policy, null);
      expect(withoutDefault.max_tokens).toBe(100);
    });

    it('names the first field at fault when several are, and ignores nests that are not objects', () => {
      expect(() => run({ max_completion_tokens: 10, n_predict: -1, num_predict: 500 }, policy)).toThrow(
        refusal('n_predict'),
      );
      expect(run({ options: 'num_predict', parameters: [{ max_new_tokens: 500 }] }, policy).max_tokens).toBe(
        100,
      );
    });

    it('leaves every token field alone when the owner set no ceiling', () => {
      const body = { n_predict: -1, max_completion_tokens: '100000', options: { num_predict: 0 } };
      expect(run(body, { pinned_model: 'm' })).toMatchObject(body);
    });
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

describe("the owner's endpoint list", () => {
  it('allows every endpoint without a list, and only the listed ones with one (403 naming the endpoint)', () => {
    for (const policy of [null, {}, { max_tokens: 10 }])
      for (const endpoint of ['chat', 'embeddings', 'rerank'])
        expect(() => assertEndpointAllowed(policy, endpoint)).not.toThrow();
    const policy = { endpoints: ['embeddings', 'rerank'] };
    expect(() => assertEndpointAllowed(policy, 'rerank')).not.toThrow();
    for (const endpoint of ['chat', 'messages']) {
      const refusal = (() => {
        try {
          assertEndpointAllowed(policy, endpoint);
        } catch (error) {
          return error as ApiError;
        }
      })();
      expect(refusal).toBeInstanceOf(ApiError);
      expect(refusal!.getStatus()).toBe(403);
      expect(refusal!.message).toBe(`the owner of this instance does not allow ${endpoint}`);
      expect(refusal!.details.code).toBe('endpoint_not_allowed');
    }
  });
});
