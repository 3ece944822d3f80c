import { acceptedModel, agentCommand, curlSnippet, MODEL_PLACEHOLDER, shellQuote } from './snippets';

describe('console snippets', () => {
  it('quotes values so a shell passes them through unchanged', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });

  it('gives the two-line install of the agent, the password in the environment, never as a flag', () => {
    const command = agentCommand('http://localhost:3000', 'k3v9w2m0a7qz', 'pw_-x');
    expect(command.split('\n')).toEqual([
      'curl -fsSLO http://localhost:3000/agent.mjs',
      "INSTANCE_PASSWORD='pw_-x' node agent.mjs \\",
      '  --registry http://localhost:3000 --instance k3v9w2m0a7qz \\',
      '  --upstream http://127.0.0.1:11434/v1',
    ]);
    expect(command).not.toContain('--password');
  });

  it('builds a curl call with a JSON body a shell cannot break', () => {
    expect(curlSnippet('http://h', 'id1', "o'model")).toContain(`-d '{"model":"o'\\''model"`);
  });

  it("names a model the owner's policy and the key accept, never one the registry would refuse", () => {
    const announced = ['llama3', 'qwen'];
    expect(acceptedModel(null, null, announced)).toBe('llama3');
    expect(acceptedModel({ pinned_model: 'qwen' }, null, announced)).toBe('qwen');
    expect(acceptedModel({ allowed_models: ['mistral', 'qwen'] }, ['qwen'], announced)).toBe('qwen');
    expect(acceptedModel(null, ['phi'], announced)).toBe('phi');
    expect(acceptedModel({ pinned_model: 'qwen' }, ['phi'], announced)).toBe(MODEL_PLACEHOLDER);
    expect(acceptedModel(null, null, [])).toBe(MODEL_PLACEHOLDER);
  });
});
