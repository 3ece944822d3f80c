import { invalidField } from '../common/http-errors';

/**
 * Every field a common model server reads as "at most this many tokens", where it reads it. A
 * server that reads a field we did not check could be asked for more than the owner allows.
 */
const TOKEN_FIELDS: ReadonlyArray<readonly [string] | readonly [string, string]> = [
  ['max_tokens'], // OpenAI chat, vLLM, llama.cpp, Ollama /v1, LM Studio, TGI's OpenAI route
  ['max_completion_tokens'], // OpenAI, vLLM (which turns "100000" into a number)
  ['max_output_tokens'], // OpenAI Responses
  ['n_predict'], // llama.cpp (-1 means no limit there), preferred over max_tokens
  ['max_new_tokens'], // TGI, transformers
  ['num_predict'], // Ollama (-1 and 0 mean no limit there)
  ['options', 'num_predict'], // Ollama's native API
  ['parameters', 'max_new_tokens'], // TGI's native API
];

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Holds a chat body to the owner's `max_tokens` ceiling: each token field the caller sent must be
 * a whole number from 1 to the ceiling (a string, a fraction, 0 or -1 is a 422 naming the field,
 * since some servers read those as "no limit"); `null` counts as absent, as the servers read it.
 * `max_tokens` then goes to the host at most at the ceiling, so servers reading only it are bound.
 */
export function holdTokenFields(
  hostBody: Record<string, unknown>,
  raw: Record<string, unknown>,
  ceiling: number,
): void {
  for (const path of TOKEN_FIELDS) {
    const parent = path.length === 1 ? raw : raw[path[0]];
    if (!isObject(parent)) continue;
    const value = parent[path[path.length - 1]];
    if (value === undefined || value === null) continue;
    if (!(Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= ceiling)) {
      const field = path.join('.');
      throw invalidField(
        field,
        `${field}: must be a whole number from 1 to ${ceiling} on this instance (its owner's limit)`,
      );
    }
  }
  if (typeof hostBody.max_tokens !== 'number' || hostBody.max_tokens > ceiling) hostBody.max_tokens = ceiling;
}
