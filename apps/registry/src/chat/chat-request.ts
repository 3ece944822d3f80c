import type { ChatRequestBody } from '@app/protocol';
import { ApiError, invalidField } from '../common/http-errors';
import { CHAT_ROLES } from './dto/chat-completion.dto';

export const DEFAULT_TEMPERATURE = 0.7;
export const DEFAULT_MAX_TOKENS = 2000;

/**
 * Whose rules a chat route follows. `second_me`: the bare `POST /api/chat/{id}` (Second Me's
 * contract: temperature 0..1, 0.7 and 2000 filled in). `openai`: `/chat/completions` (OpenAI's:
 * temperature 0..2, nothing filled in; the owner's ceiling still applies).
 */
export type ChatRules = 'second_me' | 'openai';

const MAX_TEMPERATURE: Record<ChatRules, number> = { second_me: 1, openai: 2 };

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
export function parseChatRequest(
  body: unknown,
  defaultStream: boolean,
  rules: ChatRules = 'second_me',
): ParsedChatRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ApiError(422, 'the request body must be a JSON object', {
      code: 'invalid_body',
      param: 'body',
    });
  const raw = body as Record<string, unknown>;
  const problems = chatBodyProblems(raw, rules);
  if (problems.length > 0)
    throw invalidField(problems[0].field, problems.map((p) => `${p.field}: ${p.problem}`).join('; '));
  const stream = typeof raw.stream === 'boolean' ? raw.stream : defaultStream;
  const hostBody: ChatRequestBody = {
    ...raw,
    messages: raw.messages as ChatRequestBody['messages'],
    // Hosts are always asked to stream: a stock Second Me host answers nothing at all otherwise.
    stream: true,
  };
  if (rules === 'second_me') {
    hostBody.temperature = (raw.temperature as number | undefined) ?? DEFAULT_TEMPERATURE;
    hostBody.max_tokens = (raw.max_tokens as number | undefined) ?? DEFAULT_MAX_TOKENS;
  }
  // The registry assembles non-streamed answers itself and wants the usage chunk for them.
  if (!stream)
    hostBody.stream_options = { ...(raw.stream_options as object | undefined), include_usage: true };
  return { hostBody, stream };
}

type Problem = { field: string; problem: string };
const ROLES: ReadonlySet<string> = new Set(CHAT_ROLES);
/** Absent, as class-validator's @IsOptional sees it (null counts as absent; defaults fill it). */
const absent = (v: unknown) => v === undefined || v === null;
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The checks `ChatCompletionDto` documents, written out by hand: this runs on every chat, and
 * class-transformer + class-validator cost 10-15 % of a node's CPU on the relay path. The DTO
 * stays the OpenAPI description; `chat-request.spec.ts` holds both to the same rules.
 */
export function chatBodyProblems(raw: Record<string, unknown>, rules: ChatRules = 'second_me'): Problem[] {
  const problems: Problem[] = [];
  const { messages, metadata, temperature, max_tokens: maxTokens, stream } = raw;
  if (!Array.isArray(messages))
    problems.push({ field: 'messages', problem: 'must be an array of {role, content} messages' });
  else if (messages.length === 0) problems.push({ field: 'messages', problem: 'must not be empty' });
  else
    for (let i = 0; i < messages.length; i++) {
      const message: unknown = messages[i];
      if (!isPlainObject(message)) {
        problems.push({ field: `messages.${i}`, problem: 'must be an object with role and content' });
        continue;
      }
      if (typeof message.role !== 'string' || !ROLES.has(message.role))
        problems.push({ field: `messages.${i}.role`, problem: `must be one of: ${CHAT_ROLES.join(', ')}` });
    }
  if (!absent(metadata)) {
    if (!isPlainObject(metadata)) problems.push({ field: 'metadata', problem: 'must be an object' });
    else {
      if (!absent(metadata.enable_l0_retrieval) && typeof metadata.enable_l0_retrieval !== 'boolean')
        problems.push({ field: 'metadata.enable_l0_retrieval', problem: 'must be a boolean' });
      if (!absent(metadata.role_id) && typeof metadata.role_id !== 'string')
        problems.push({ field: 'metadata.role_id', problem: 'must be a string' });
    }
  }
  const maxTemperature = MAX_TEMPERATURE[rules];
  if (
    !absent(temperature) &&
    !(typeof temperature === 'number' && temperature >= 0 && temperature <= maxTemperature)
  )
    problems.push({ field: 'temperature', problem: `must be a number from 0 to ${maxTemperature}` });
  if (!absent(maxTokens) && !(Number.isSafeInteger(maxTokens) && (maxTokens as number) >= 1))
    problems.push({ field: 'max_tokens', problem: 'must be a whole number of at least 1' });
  if (!absent(stream) && typeof stream !== 'boolean')
    problems.push({ field: 'stream', problem: 'must be true or false' });
  return problems;
}
