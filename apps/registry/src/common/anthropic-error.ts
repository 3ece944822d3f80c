/** Anthropic's error object, for the Messages route (`/api/chat/{id}/v1/messages`): what its SDKs parse. */
export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
}

const typeByStatus: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  422: 'invalid_request_error',
  429: 'rate_limit_error',
  503: 'overloaded_error',
};

export function anthropicError(status: number, message: string): AnthropicErrorBody {
  const type = typeByStatus[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
  return { type: 'error', error: { type, message } };
}

/** The Messages route of any instance: its errors take Anthropic's shape. */
export const isAnthropicRoute = (url: string): boolean =>
  /^\/api\/chat\/[^/?]+\/v1\/messages(?:\?|$)/.test(url);
