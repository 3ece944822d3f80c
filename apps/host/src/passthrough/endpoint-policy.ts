import type { PassthroughEndpoint } from '@app/protocol';
import { applyRequestPolicy, type RequestPolicy } from '../request-policy';

/** The field each API reads as "at most this many tokens" (embeddings and rerank generate none). */
export const TOKEN_FIELD: Readonly<Record<PassthroughEndpoint, string | null>> = {
  embeddings: null,
  completions: 'max_tokens',
  responses: 'max_output_tokens',
  messages: 'max_tokens',
  rerank: null,
  transcriptions: null,
};

/**
 * The owner's request policy on another endpoint: credential and target overrides dropped, the
 * model pinned, `n`/`best_of` capped (as for chat), and --max-tokens held on the API's own token
 * field — capped when larger or not a whole number, filled in when absent.
 */
export function applyEndpointPolicy(
  endpoint: PassthroughEndpoint,
  request: Record<string, unknown>,
  policy: RequestPolicy,
): { body: Record<string, unknown>; changes: string[] } {
  const { body, changes } = applyRequestPolicy(request, { ...policy, maxTokens: undefined });
  const field = TOKEN_FIELD[endpoint];
  const cap = policy.maxTokens;
  if (field === null || cap === undefined) return { body, changes };
  const value = body[field];
  const within = typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= cap;
  if (!within) {
    changes.push(
      value === undefined ? `${field} set to ${cap}` : `${field} ${JSON.stringify(value)} -> ${cap}`,
    );
    body[field] = cap;
  }
  return { body, changes };
}
