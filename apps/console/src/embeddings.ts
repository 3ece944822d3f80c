import { ApiFailure, failureOf } from './api';

export interface EmbeddingResult {
  /** The vector's length. */
  dimensions: number;
  /** Its first values, rounded for display. */
  head: number[];
  /** `usage.prompt_tokens` as the model server counted them; null when it sent none. */
  promptTokens: number | null;
  /** From sending the request to the whole answer. */
  ms: number;
}

interface EmbeddingAnswer {
  data?: Array<{ embedding?: unknown }>;
  usage?: { prompt_tokens?: unknown };
}

const SHOWN_VALUES = 8;

/** Reads an OpenAI embeddings answer: the first vector's size and head, and the tokens it cost. */
export function readEmbedding(answer: EmbeddingAnswer, ms: number): EmbeddingResult {
  const vector = answer.data?.[0]?.embedding;
  if (!Array.isArray(vector) || !vector.every((v) => typeof v === 'number'))
    throw new ApiFailure(0, 'the answer holds no embedding (data[0].embedding is not a list of numbers)');
  const tokens = answer.usage?.prompt_tokens;
  return {
    dimensions: vector.length,
    head: (vector as number[]).slice(0, SHOWN_VALUES).map((v) => Math.round(v * 1e4) / 1e4),
    promptTokens: typeof tokens === 'number' ? tokens : null,
    ms: Math.round(ms),
  };
}

/** `POST <instance URL>/embeddings` for one input, with the instance's key when given. */
export async function embed(
  url: string,
  model: string,
  input: string,
  key: string,
): Promise<EmbeddingResult> {
  const started = performance.now();
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  const body: Record<string, unknown> = { input };
  if (model) body.model = model;
  const response = await fetch(`${url}/embeddings`, { method: 'POST', headers, body: JSON.stringify(body) });
  if (!response.ok) throw await failureOf(response);
  return readEmbedding((await response.json()) as EmbeddingAnswer, performance.now() - started);
}
