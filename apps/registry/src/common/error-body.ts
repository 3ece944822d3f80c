import type { Envelope, OpenAiErrorBody } from '@app/contracts';
import { failure } from './envelope';
import { anthropicError, isAnthropicRoute, type AnthropicErrorBody } from './anthropic-error';
import { openAiError, openAiErrorType } from './openai-error';

/**
 * The error body a route answers with: Anthropic's shape on the Messages route, OpenAI's on the
 * rest of the chat API (SDKs parse them), the Second Me envelope elsewhere.
 */
export function errorBody(
  url: string,
  status: number,
  message: string,
  code: string | null,
  param: string | null,
): OpenAiErrorBody | AnthropicErrorBody | Envelope<null> {
  if (isAnthropicRoute(url)) return anthropicError(status, message);
  return url.startsWith('/api/chat/')
    ? openAiError(message, openAiErrorType(status), code, param)
    : failure(status, message);
}
