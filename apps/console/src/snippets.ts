/** Copy-ready ways to use an instance; pure so they can be checked without a browser. */
import { USAGE_ENDPOINTS, type UsageEndpoint } from '@app/contracts';
import { rerankSnippets } from './rerank-snippets';
import { transcriptionSnippets } from './transcription-snippets';

/** Single-quotes a value for a POSIX shell. */
export const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

export const chatUrl = (origin: string, instanceId: string) =>
  `${origin}/api/chat/${encodeURIComponent(instanceId)}`;

/**
 * The two-line install of the host agent: download the one-file agent from this registry node (it
 * serves the agent it was built with), then run it with node. The password goes in the
 * environment, never on the command line, where other users of the machine can read it.
 */
export function agentCommand(origin: string, instanceId: string, password = '<your password>'): string {
  return [
    `curl -fsSLO ${origin}/agent.mjs`,
    `INSTANCE_PASSWORD=${shellQuote(password)} node agent.mjs \\`,
    `  --registry ${origin} --instance ${instanceId} \\`,
    `  --upstream http://127.0.0.1:11434/v1`,
  ].join('\n');
}

/** A private instance's snippets name the key; a public one needs none (the SDKs still want a value). */
export const KEY_PLACEHOLDER = 'sk-your-key';
/** Where the page cannot know a model the instance accepts (private, no key given yet). */
export const MODEL_PLACEHOLDER = 'your-model';

/** The owner's policy as far as snippets care. */
export interface ModelPolicy {
  allowed_models?: string[];
  pinned_model?: string;
}

/**
 * A model the registry accepts from a holder of a key with `keyModels` (null: any), as its
 * `/models` would list first: the owner's pinned or allowed models, narrowed to the key's, else the
 * key's, else what the host announced. A snippet naming another would be refused (403 model_not_allowed).
 */
export function acceptedModel(
  policy: ModelPolicy | null,
  keyModels: string[] | null,
  announced: string[],
): string {
  const byPolicy = policy?.pinned_model !== undefined ? [policy.pinned_model] : policy?.allowed_models;
  const usable = keyModels?.length
    ? (byPolicy?.filter((model) => keyModels.includes(model)) ?? keyModels)
    : (byPolicy ?? announced);
  return usable[0] ?? MODEL_PLACEHOLDER;
}

export function curlSnippet(origin: string, instanceId: string, model: string, apiKey?: string): string {
  const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello!' }] });
  const auth = apiKey ? `  -H ${shellQuote(`authorization: Bearer ${apiKey}`)} \\\n` : '';
  return `curl -N ${chatUrl(origin, instanceId)} \\\n${auth}  -H 'content-type: application/json' \\\n  -d ${shellQuote(body)}`;
}

export function pythonSnippet(origin: string, instanceId: string, model: string, apiKey = 'unused'): string {
  return [
    'from openai import OpenAI',
    '',
    `client = OpenAI(base_url=${JSON.stringify(chatUrl(origin, instanceId))}, api_key=${JSON.stringify(apiKey)})`,
    'stream = client.chat.completions.create(',
    `    model=${JSON.stringify(model)},`,
    '    messages=[{"role": "user", "content": "Hello!"}],',
    '    stream=True,',
    ')',
    'for chunk in stream:',
    '    print(chunk.choices[0].delta.content or "", end="")',
  ].join('\n');
}

export function javascriptSnippet(
  origin: string,
  instanceId: string,
  model: string,
  apiKey = 'unused',
): string {
  return [
    "import OpenAI from 'openai';",
    '',
    `const client = new OpenAI({ baseURL: ${JSON.stringify(chatUrl(origin, instanceId))}, apiKey: ${JSON.stringify(apiKey)} });`,
    'const stream = await client.chat.completions.create({',
    `  model: ${JSON.stringify(model)},`,
    "  messages: [{ role: 'user', content: 'Hello!' }],",
    '  stream: true,',
    '});',
    "for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta?.content ?? '');",
  ].join('\n');
}

/** What an instance's URL can serve (the card's `endpoints`), chat first: the order the page offers them. */
export const ENDPOINTS = USAGE_ENDPOINTS;
export type Endpoint = UsageEndpoint;

export const ENDPOINT_LABELS: Record<Endpoint, string> = {
  chat: 'Chat',
  embeddings: 'Embeddings',
  completions: 'Completions',
  responses: 'Responses',
  messages: 'Anthropic Messages',
  rerank: 'Rerank',
  transcriptions: 'Audio transcriptions',
};

/**
 * The endpoints a card names, in the page's order. The registry lists chat (every host serves it)
 * unless the owner's policy denies it; a card not read yet (no list) shows chat.
 */
export function servedEndpoints(announced: readonly string[]): Endpoint[] {
  if (announced.length === 0) return ['chat'];
  return ENDPOINTS.filter((endpoint) => announced.includes(endpoint));
}

/** One copy-ready block: what it is, its text, and a stable test id. */
export interface Snippet {
  label: string;
  text: string;
  testId: string;
}

interface Message {
  role: string;
  content: string;
}
type BodyValue = string | number | Message[];

/**
 * How each other endpoint is called. One body feeds all three snippets, so curl and the SDKs send
 * the same request; `max_tokens` is set where the API needs it (Anthropic) or its default is tiny
 * (completions: 16).
 */
interface OtherEndpoint {
  sdk: 'openai' | 'anthropic';
  /** Appended to the instance URL by curl; the SDKs add it themselves. */
  path: string;
  /** The SDK's method under the client, e.g. `embeddings.create`. */
  method: string;
  result: string;
  body: (model: string) => Record<string, BodyValue>;
  python: (result: string) => string;
  javascript: (result: string) => string;
}

const OTHER_ENDPOINTS: Record<Exclude<Endpoint, 'chat' | 'rerank' | 'transcriptions'>, OtherEndpoint> = {
  embeddings: {
    sdk: 'openai',
    path: '/embeddings',
    method: 'embeddings.create',
    result: 'embedding',
    body: (model) => ({ model, input: 'The quick brown fox' }),
    python: (r) => `print(len(${r}.data[0].embedding), "dimensions")`,
    javascript: (r) => `console.log(${r}.data[0].embedding.length, 'dimensions');`,
  },
  completions: {
    sdk: 'openai',
    path: '/completions',
    method: 'completions.create',
    result: 'completion',
    body: (model) => ({ model, prompt: 'Once upon a time', max_tokens: 64 }),
    python: (r) => `print(${r}.choices[0].text)`,
    javascript: (r) => `console.log(${r}.choices[0].text);`,
  },
  responses: {
    sdk: 'openai',
    path: '/responses',
    method: 'responses.create',
    result: 'response',
    body: (model) => ({ model, input: 'Hello!' }),
    python: (r) => `print(${r}.output_text)`,
    javascript: (r) => `console.log(${r}.output_text);`,
  },
  messages: {
    sdk: 'anthropic',
    // Anthropic's SDKs append /v1/messages to their base URL, the instance URL.
    path: '/v1/messages',
    method: 'messages.create',
    result: 'message',
    body: (model) => ({ model, max_tokens: 1024, messages: [{ role: 'user', content: 'Hello!' }] }),
    python: (r) => `print(${r}.content[0].text)`,
    // A loop rather than content[0].text: content is a union of blocks, and TypeScript wants it narrowed.
    javascript: (r) =>
      `for (const block of ${r}.content) if (block.type === 'text') console.log(block.text);`,
  },
};

/** Each SDK's import; its client class is named as the SDK is. */
const SDK = {
  openai: { name: 'OpenAI', python: 'from openai import OpenAI', js: "import OpenAI from 'openai';" },
  anthropic: {
    name: 'Anthropic',
    python: 'from anthropic import Anthropic',
    js: "import Anthropic from '@anthropic-ai/sdk';",
  },
} as const;

function otherCurl(url: string, spec: OtherEndpoint, model: string, apiKey?: string): string {
  const headers: string[] = [];
  // The Anthropic SDK sends its key as x-api-key, which the registry accepts as well as Bearer.
  if (apiKey)
    headers.push(spec.sdk === 'anthropic' ? `x-api-key: ${apiKey}` : `authorization: Bearer ${apiKey}`);
  if (spec.sdk === 'anthropic') headers.push('anthropic-version: 2023-06-01');
  headers.push('content-type: application/json');
  return [
    `curl ${url}${spec.path} \\`,
    ...headers.map((header) => `  -H ${shellQuote(header)} \\`),
    `  -d ${shellQuote(JSON.stringify(spec.body(model)))}`,
  ].join('\n');
}

/** A body value as Python source, spaced as the chat snippet writes its messages. */
const pythonLiteral = (value: BodyValue): string =>
  Array.isArray(value)
    ? `[${value.map((m: Message) => `{"role": ${JSON.stringify(m.role)}, "content": ${JSON.stringify(m.content)}}`).join(', ')}]`
    : JSON.stringify(value);

/** A body value as JavaScript source (JSON's strings and numbers read the same in both languages). */
const javascriptLiteral = (value: BodyValue): string =>
  Array.isArray(value)
    ? `[${value.map((m: Message) => `{ role: ${JSON.stringify(m.role)}, content: ${JSON.stringify(m.content)} }`).join(', ')}]`
    : JSON.stringify(value);

function otherPython(url: string, spec: OtherEndpoint, model: string, apiKey: string): string {
  const sdk = SDK[spec.sdk];
  return [
    sdk.python,
    '',
    `client = ${sdk.name}(base_url=${JSON.stringify(url)}, api_key=${JSON.stringify(apiKey)})`,
    `${spec.result} = client.${spec.method}(`,
    ...Object.entries(spec.body(model)).map(([name, value]) => `    ${name}=${pythonLiteral(value)},`),
    ')',
    spec.python(spec.result),
  ].join('\n');
}

function otherJavascript(url: string, spec: OtherEndpoint, model: string, apiKey: string): string {
  const sdk = SDK[spec.sdk];
  return [
    sdk.js,
    '',
    `const client = new ${sdk.name}({ baseURL: ${JSON.stringify(url)}, apiKey: ${JSON.stringify(apiKey)} });`,
    `const ${spec.result} = await client.${spec.method}({`,
    ...Object.entries(spec.body(model)).map(([name, value]) => `  ${name}: ${javascriptLiteral(value)},`),
    '});',
    spec.javascript(spec.result),
  ].join('\n');
}

/**
 * The copy-ready calls of one endpoint: curl, then the SDK in Python and JavaScript (OpenAI's, or
 * Anthropic's for messages). `apiKey` is a private instance's key (or its placeholder); without
 * one curl sends none and the SDKs, which insist on a value, get "unused".
 */
export function endpointSnippets(
  endpoint: Endpoint,
  origin: string,
  instanceId: string,
  model: string,
  apiKey?: string,
): Snippet[] {
  if (endpoint === 'chat')
    return [
      { label: 'curl', text: curlSnippet(origin, instanceId, model, apiKey), testId: 'snippet-curl' },
      {
        label: 'OpenAI Python',
        text: pythonSnippet(origin, instanceId, model, apiKey),
        testId: 'snippet-python',
      },
      {
        label: 'OpenAI JavaScript',
        text: javascriptSnippet(origin, instanceId, model, apiKey),
        testId: 'snippet-javascript',
      },
    ];
  const url = chatUrl(origin, instanceId);
  if (endpoint === 'rerank') return rerankSnippets(url, model, apiKey, shellQuote);
  // A multipart upload: its own snippets (curl -F, an open file for the SDKs).
  if (endpoint === 'transcriptions') return transcriptionSnippets(url, model, apiKey);
  const spec = OTHER_ENDPOINTS[endpoint];
  const sdk = SDK[spec.sdk].name;
  return [
    { label: 'curl', text: otherCurl(url, spec, model, apiKey), testId: `snippet-${endpoint}-curl` },
    {
      label: `${sdk} Python`,
      text: otherPython(url, spec, model, apiKey ?? 'unused'),
      testId: `snippet-${endpoint}-python`,
    },
    {
      label: `${sdk} JavaScript`,
      text: otherJavascript(url, spec, model, apiKey ?? 'unused'),
      testId: `snippet-${endpoint}-javascript`,
    },
  ];
}
