import type { OpenAiErrorBody } from '@app/contracts';

export function openAiError(
  message: string,
  type: string,
  code: string | null,
  param: string | null = null,
): OpenAiErrorBody {
  return { error: { message, type, param, code } };
}

const typeByStatus: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'invalid_request_error',
  422: 'invalid_request_error',
  429: 'rate_limit_error',
  503: 'service_unavailable',
};

export const openAiErrorType = (status: number) =>
  typeByStatus[status] ?? (status >= 500 ? 'server_error' : 'invalid_request_error');
