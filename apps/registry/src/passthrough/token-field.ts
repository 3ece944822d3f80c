import type { PassthroughEndpoint } from '@app/protocol';

/**
 * After the owner's policy (which holds every token field to the ceiling and puts it on
 * `max_tokens` when the caller sent none): the ceiling goes on the field the called API reads —
 * `max_output_tokens` for Responses, none for embeddings and rerank (which generate no tokens).
 */
export function placeTokenCeiling(
  endpoint: PassthroughEndpoint,
  hostBody: Record<string, unknown>,
  raw: Record<string, unknown>,
): void {
  // Transcriptions take no token limit: the ceiling is not sent (a caller's own fields go on).
  if (endpoint === 'transcriptions' && raw.max_tokens === undefined) delete hostBody.max_tokens;
  if (hostBody.max_tokens === undefined || raw.max_tokens !== undefined) return;
  if (endpoint === 'embeddings' || endpoint === 'rerank') delete hostBody.max_tokens;
  else if (endpoint === 'responses') {
    const ceiling = hostBody.max_tokens as number;
    delete hostBody.max_tokens;
    // A caller's max_output_tokens is already within the ceiling (the policy refused it otherwise).
    hostBody.max_output_tokens ??= ceiling;
  }
}
