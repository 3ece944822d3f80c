import type { Envelope, OpenAiErrorBody } from '@app/contracts';
import { failure } from './envelope';
import { openAiError, openAiErrorType } from './openai-error';

/** The error body a route answers with: OpenAI's shape on the chat API (SDKs parse it), the Second Me envelope elsewhere. */
export function errorBody(
  url: string,
  status: number,
  message: string,
  code: string | null,
  param: string | null,
): OpenAiErrorBody | Envelope<null> {
  return url.startsWith('/api/chat/')
    ? openAiError(message, openAiErrorType(status), code, param)
    : failure(status, message);
}
