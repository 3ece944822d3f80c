import { agentCommand, curlSnippet, shellQuote } from './snippets';

describe('console snippets', () => {
  it('quotes values so a shell passes them through unchanged', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });

  it('gives the exact agent command for an instance', () => {
    expect(agentCommand('http://localhost:3000', 'k3v9w2m0a7qz', 'pw_-x')).toBe(
      'npm run host -- --registry http://localhost:3000 --instance k3v9w2m0a7qz \\\n' +
        "  --password 'pw_-x' \\\n" +
        '  --upstream http://127.0.0.1:11434/v1',
    );
  });

  it('builds a curl call with a JSON body a shell cannot break', () => {
    expect(curlSnippet('http://h', 'id1', "o'model")).toContain(`-d '{"model":"o'\\''model"`);
  });
});
