import type { Snippet } from './snippets';

/** The documents the rerank snippets rank against their query. */
export const RERANK_DOCUMENTS = ['A cat sleeps on the mat.', 'The quick brown fox jumps.'];

/**
 * Rerank (vLLM's and llama.cpp's `/v1/rerank`), which the OpenAI SDKs have no method for: curl,
 * then the OpenAI SDKs' own `client.post` (same client, base URL and key as the other snippets).
 */
export function rerankSnippets(
  url: string,
  model: string,
  apiKey: string | undefined,
  quote: (value: string) => string,
): Snippet[] {
  const body = { model, query: 'Where is the fox?', documents: RERANK_DOCUMENTS };
  const sdkKey = JSON.stringify(apiKey ?? 'unused');
  const curl = [
    `curl ${url}/rerank \\`,
    ...(apiKey ? [`  -H ${quote(`authorization: Bearer ${apiKey}`)} \\`] : []),
    `  -H 'content-type: application/json' \\`,
    `  -d ${quote(JSON.stringify(body))}`,
  ].join('\n');
  const list = (items: string[], spaced: boolean) =>
    `[${items.map((item) => JSON.stringify(item)).join(spaced ? ', ' : ',')}]`;
  const python = [
    'from openai import OpenAI',
    '',
    `client = OpenAI(base_url=${JSON.stringify(url)}, api_key=${sdkKey})`,
    '# The SDK has no rerank method: its generic post sends the body and returns the JSON.',
    'ranking = client.post(',
    '    "/rerank",',
    '    cast_to=object,',
    '    body={',
    `        "model": ${JSON.stringify(body.model)},`,
    `        "query": ${JSON.stringify(body.query)},`,
    `        "documents": ${list(body.documents, true)},`,
    '    },',
    ')',
    'print("best:", ranking["results"][0]["index"])',
  ].join('\n');
  const javascript = [
    "import OpenAI from 'openai';",
    '',
    `const client = new OpenAI({ baseURL: ${JSON.stringify(url)}, apiKey: ${sdkKey} });`,
    '// The SDK has no rerank method: its generic post sends the body and returns the JSON.',
    "const ranking = await client.post('/rerank', {",
    '  body: {',
    `    model: ${JSON.stringify(body.model)},`,
    `    query: ${JSON.stringify(body.query)},`,
    `    documents: ${list(body.documents, true)},`,
    '  },',
    '});',
    "console.log('best:', ranking.results[0].index);",
  ].join('\n');
  return [
    { label: 'curl', text: curl, testId: 'snippet-rerank-curl' },
    { label: 'OpenAI Python', text: python, testId: 'snippet-rerank-python' },
    { label: 'OpenAI JavaScript', text: javascript, testId: 'snippet-rerank-javascript' },
  ];
}
