import type { Snippet } from './snippets';

/** Single-quotes a value for a POSIX shell (as snippets.ts does). */
const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * The copy-ready calls of `audio/transcriptions`: a multipart upload, so curl sends the file with
 * `-F` and the OpenAI SDKs with `audio.transcriptions.create` and an open file. `url` is the
 * instance's URL; `apiKey` a private instance's key (or placeholder).
 */
export function transcriptionSnippets(url: string, model: string, apiKey?: string): Snippet[] {
  const key = apiKey ?? 'unused';
  const curl = [
    `curl ${url}/audio/transcriptions \\`,
    ...(apiKey ? [`  -H ${quote(`authorization: Bearer ${apiKey}`)} \\`] : []),
    `  -F file=@audio.mp3 \\`,
    `  -F ${quote(`model=${model}`)}`,
  ].join('\n');
  const python = [
    'from openai import OpenAI',
    '',
    `client = OpenAI(base_url=${JSON.stringify(url)}, api_key=${JSON.stringify(key)})`,
    'with open("audio.mp3", "rb") as audio:',
    `    transcription = client.audio.transcriptions.create(model=${JSON.stringify(model)}, file=audio)`,
    'print(transcription.text)',
  ].join('\n');
  const javascript = [
    "import fs from 'node:fs';",
    "import OpenAI from 'openai';",
    '',
    `const client = new OpenAI({ baseURL: ${JSON.stringify(url)}, apiKey: ${JSON.stringify(key)} });`,
    'const transcription = await client.audio.transcriptions.create({',
    `  model: ${JSON.stringify(model)},`,
    "  file: fs.createReadStream('audio.mp3'),",
    '});',
    'console.log(transcription.text);',
  ].join('\n');
  return [
    { label: 'curl', text: curl, testId: 'snippet-transcriptions-curl' },
    { label: 'OpenAI Python', text: python, testId: 'snippet-transcriptions-python' },
    { label: 'OpenAI JavaScript', text: javascript, testId: 'snippet-transcriptions-javascript' },
  ];
}
