import type { PassthroughEndpoint } from '@app/protocol';

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A streamed `completions` answer carries usage only when asked for (`stream_options.include_usage`):
 * the registry asks the model for it, as it does for chat, so the owner's usage and the key's
 * token budget see the tokens. True when the caller did not ask itself: the usage-only chunk is
 * then cut out of its answer. The other APIs' streams always carry usage; a `stream_options` that
 * is not an object is left as sent (the model server answers it).
 */
export function askForStreamUsage(
  endpoint: PassthroughEndpoint,
  hostBody: Record<string, unknown>,
  raw: Record<string, unknown>,
): boolean {
  if (endpoint !== 'completions' || raw.stream !== true) return false;
  const options = raw.stream_options;
  if (options !== undefined && options !== null && !isPlainObject(options)) return false;
  if (isPlainObject(options) && options.include_usage === true) return false;
  hostBody.stream_options = { ...options, include_usage: true };
  return true;
}
