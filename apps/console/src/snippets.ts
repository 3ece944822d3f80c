/** Copy-ready ways to use an instance; pure so they can be checked without a browser. */

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
