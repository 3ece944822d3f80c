import {
  acceptedModel,
  agentCommand,
  curlSnippet,
  Endpoint,
  endpointSnippets,
  ENDPOINTS,
  MODEL_PLACEHOLDER,
  servedEndpoints,
  shellQuote,
} from './snippets';
import { RERANK_DOCUMENTS } from './rerank-snippets';

/** The words a POSIX shell hands to curl: single quotes (with '\'' inside) or bare words. */
function shellWords(command: string): string[] {
  const words: string[] = [];
  const pattern = /'((?:[^']|'\\'')*)'|(\S+)/g;
  for (const line of command.split(' \\\n')) {
    for (const match of line.matchAll(pattern)) words.push(match[1]?.replace(/'\\''/g, "'") ?? match[2]);
  }
  return words;
}

/** curl's URL, its headers and its JSON body (or its -F form fields), as the shell would pass them. */
function parseCurl(command: string) {
  const words = shellWords(command);
  const headers = words.flatMap((word, i) => (words[i - 1] === '-H' ? [word.toLowerCase()] : []));
  const url = words.find((word) => word.startsWith('http'));
  if (!words.includes('-d')) {
    const fields = words.flatMap((word, i) => (words[i - 1] === '-F' ? [word.split(/=(.*)/s)] : []));
    return { url, headers, body: Object.fromEntries(fields) as Record<string, unknown> };
  }
  const body = words[words.indexOf('-d') + 1];
  return { url, headers, body: JSON.parse(body) as Record<string, unknown> };
}

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

  it('offers chat first and then only the endpoints the card names, in one order', () => {
    expect(servedEndpoints([])).toEqual(['chat']);
    expect(servedEndpoints(['messages', 'chat', 'embeddings', 'audio'])).toEqual([
      'chat',
      'embeddings',
      'messages',
    ]);
    // An owner who denied chat: the card lists what is left, and so does the page.
    expect(servedEndpoints(['embeddings', 'rerank'])).toEqual(['embeddings', 'rerank']);
    expect(servedEndpoints([...ENDPOINTS].reverse())).toEqual([...ENDPOINTS]);
  });

  const paths: Record<Endpoint, string> = {
    chat: '',
    embeddings: '/embeddings',
    completions: '/completions',
    responses: '/responses',
    messages: '/v1/messages',
    rerank: '/rerank',
    transcriptions: '/audio/transcriptions',
  };
  const sdkCalls: Record<Endpoint, string> = {
    chat: 'chat.completions.create(',
    embeddings: 'embeddings.create(',
    completions: 'completions.create(',
    responses: 'responses.create(',
    messages: 'messages.create(',
    rerank: 'post(',
    transcriptions: 'audio.transcriptions.create(',
  };
  const cases = ENDPOINTS.flatMap((endpoint) => [
    { endpoint, key: undefined, sdkKey: 'unused' },
    { endpoint, key: 'sk-your-key', sdkKey: 'sk-your-key' },
  ]);

  it.each(cases)(
    '$endpoint with key $key: curl and both SDKs name the URL, the key and the model',
    ({ endpoint, key, sdkKey }) => {
      const model = 'o\'model "x"';
      const [curl, python, javascript] = endpointSnippets(endpoint, 'http://h:3000', 'id1', model, key);
      const base = 'http://h:3000/api/chat/id1';

      const call = parseCurl(curl.text);
      expect(call.url).toBe(`${base}${paths[endpoint]}`);
      expect(call.body.model).toBe(model);
      const auth = call.headers.filter((h) => h.startsWith('authorization') || h.startsWith('x-api-key'));
      // The Anthropic SDK's header for messages, OpenAI's Bearer elsewhere; nothing for a public instance.
      const expected = endpoint === 'messages' ? `x-api-key: ${key}` : `authorization: bearer ${key}`;
      expect(auth).toEqual(key ? [expected] : []);
      if (endpoint === 'messages') {
        expect(call.headers).toContain('anthropic-version: 2023-06-01');
        expect(call.body).toMatchObject({
          max_tokens: 1024,
          messages: [{ role: 'user', content: 'Hello!' }],
        });
      }

      const sdk = endpoint === 'messages' ? 'Anthropic' : 'OpenAI';
      expect([python.label, javascript.label]).toEqual([`${sdk} Python`, `${sdk} JavaScript`]);
      expect(python.text).toContain(
        `${sdk}(base_url=${JSON.stringify(base)}, api_key=${JSON.stringify(sdkKey)})`,
      );
      // Rerank has no SDK method: the body is a dict given to the SDK's generic post.
      const rerank = endpoint === 'rerank';
      expect(python.text).toContain(
        rerank ? `"model": ${JSON.stringify(model)},` : `model=${JSON.stringify(model)},`,
      );
      expect(python.text).toContain(`client.${sdkCalls[endpoint]}`);
      expect(javascript.text).toContain(
        `new ${sdk}({ baseURL: ${JSON.stringify(base)}, apiKey: ${JSON.stringify(sdkKey)} })`,
      );
      expect(javascript.text).toContain(`model: ${JSON.stringify(model)},`);
      expect(javascript.text).toContain(`client.${sdkCalls[endpoint]}`);
      expect(new Set([curl.testId, python.testId, javascript.testId]).size).toBe(3);
    },
  );

  it('sends the same body from curl and the SDKs', () => {
    for (const endpoint of ENDPOINTS.filter(
      (e) => e !== 'chat' && e !== 'rerank' && e !== 'transcriptions',
    )) {
      const [curl, python, javascript] = endpointSnippets(endpoint, 'http://h', 'id1', 'm');
      for (const [name, value] of Object.entries(parseCurl(curl.text).body)) {
        const messages = [{ role: 'user', content: 'Hello!' }];
        if (name === 'messages') expect(value).toEqual(messages);
        expect(python.text).toContain(
          name === 'messages'
            ? '    messages=[{"role": "user", "content": "Hello!"}],'
            : `    ${name}=${JSON.stringify(value)},`,
        );
        expect(javascript.text).toContain(
          name === 'messages'
            ? '  messages: [{ role: "user", content: "Hello!" }],'
            : `  ${name}: ${JSON.stringify(value)},`,
        );
      }
    }
  });

  it("calls rerank with the OpenAI SDKs' generic post and the same body as curl", () => {
    const [curl, python, javascript] = endpointSnippets('rerank', 'http://h', 'id1', 'm', 'sk-k');
    const call = parseCurl(curl.text);
    expect(call.body).toEqual({
      model: 'm',
      query: 'Where is the fox?',
      documents: RERANK_DOCUMENTS,
    });
    expect(python.text).toContain('ranking = client.post(\n    "/rerank",\n    cast_to=object,\n    body={');
    expect(python.text).toContain(
      `        "documents": ${JSON.stringify(RERANK_DOCUMENTS).replace('",', '", ')},`,
    );
    expect(javascript.text).toContain("const ranking = await client.post('/rerank', {\n  body: {");
    expect(javascript.text).toContain(`    query: "Where is the fox?",`);
  });

  it('uploads the same audio file from curl (-F) and the SDKs (an open file) for transcriptions', () => {
    const [curl, python, javascript] = endpointSnippets('transcriptions', 'http://h', 'id1', 'm');
    expect(parseCurl(curl.text).body).toEqual({ file: '@audio.mp3', model: 'm' });
    expect(curl.text).not.toContain('content-type');
    expect(python.text).toContain('with open("audio.mp3", "rb") as audio:');
    expect(python.text).toContain('file=audio)');
    expect(javascript.text).toContain("file: fs.createReadStream('audio.mp3'),");
  });

  it('uses the Anthropic SDK for messages, with the instance URL as its base (it appends /v1/messages)', () => {
    const [, python, javascript] = endpointSnippets('messages', 'http://h', 'id1', 'm', 'sk-k');
    expect(python.text.split('\n')).toEqual([
      'from anthropic import Anthropic',
      '',
      'client = Anthropic(base_url="http://h/api/chat/id1", api_key="sk-k")',
      'message = client.messages.create(',
      '    model="m",',
      '    max_tokens=1024,',
      '    messages=[{"role": "user", "content": "Hello!"}],',
      ')',
      'print(message.content[0].text)',
    ]);
    expect(javascript.text).toContain("import Anthropic from '@anthropic-ai/sdk';");
  });
});
