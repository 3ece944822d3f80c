import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import type { ChatRequestBody } from '@app/protocol';
import { ApiError, invalidField } from '../common/http-errors';
import { describeValidationErrors } from '../common/validation';
import { ChatCompletionDto } from './dto/chat-completion.dto';

export const DEFAULT_TEMPERATURE = 0.7;
export const DEFAULT_MAX_TOKENS = 2000;

export interface ParsedChatRequest {
  /** What the host receives: the caller's body with defaults filled and `stream: true`. */
  hostBody: ChatRequestBody;
  /** Whether the caller gets SSE (true) or one chat.completion JSON (false). */
  stream: boolean;
}

/**
 * Validates a chat body and decides streaming. `defaultStream` is what an absent `stream`
 * means on the route that was called (see design: Second Me path streams, OpenAI path follows Accept).
 */
export function parseChatRequest(body: unknown, defaultStream: boolean): ParsedChatRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ApiError(422, 'the request body must be a JSON object', {
      code: 'invalid_body',
      param: 'body',
    });
  const raw = body as Record<string, unknown>;
  const errors = validateSync(plainToInstance(ChatCompletionDto, raw), { forbidUnknownValues: false });
  if (errors.length > 0) {
    const problems = describeValidationErrors(errors);
    throw invalidField(problems[0].field, problems.map((p) => `${p.field}: ${p.problem}`).join('; '));
  }
  const stream = typeof raw.stream === 'boolean' ? raw.stream : defaultStream;
  const hostBody: ChatRequestBody = {
    ...raw,
    messages: raw.messages as ChatRequestBody['messages'],
    temperature: (raw.temperature as number | undefined) ?? DEFAULT_TEMPERATURE,
    max_tokens: (raw.max_tokens as number | undefined) ?? DEFAULT_MAX_TOKENS,
    // Hosts are always asked to stream: a stock Second Me host answers nothing at all otherwise.
    stream: true,
  };
  // The registry assembles non-streamed answers itself and wants the usage chunk for them.
  if (!stream)
    hostBody.stream_options = { ...(raw.stream_options as object | undefined), include_usage: true };
  return { hostBody, stream };
}
