import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { ApiError } from '../common/http-errors';
import { chatBodyProblems, parseChatRequest } from './chat-request';
import { ChatCompletionDto, OpenAiChatCompletionDto } from './dto/chat-completion.dto';

const messages = [{ role: 'user', content: 'hi' }];

function rejection(body: unknown): ApiError {
  try {
    parseChatRequest(body, true);
  } catch (error) {
    return error as ApiError;
  }
  throw new Error('expected a rejection');
}

describe('parseChatRequest', () => {
  it('fills defaults, forces streaming at the host and keeps unknown fields untouched', () => {
    const extra = {
      model: 'm',
      tools: [{ type: 'function' }],
      extendData: { a: 1 },
      stream_options: { include_usage: true },
    };
    const { hostBody, stream } = parseChatRequest({ messages, stream: false, ...extra }, true);
    expect(stream).toBe(false);
    expect(hostBody).toMatchObject({ ...extra, messages, temperature: 0.7, max_tokens: 2000, stream: true });
  });

  it("follows OpenAI's rules on /chat/completions: temperature up to 2, nothing filled in", () => {
    const { hostBody } = parseChatRequest({ messages }, false, 'openai');
    expect(hostBody).not.toHaveProperty('temperature');
    expect(hostBody).not.toHaveProperty('max_tokens');
    expect(parseChatRequest({ messages, temperature: 1.5 }, false, 'openai').hostBody.temperature).toBe(1.5);
    expect(() => parseChatRequest({ messages, temperature: 2.01 }, false, 'openai')).toThrow(
      'temperature: must be a number from 0 to 2',
    );
  });

  it("keeps Second Me's rules on the bare route: temperature 1.5 is refused", () => {
    const error = rejection({ messages, temperature: 1.5 });
    expect(error.getStatus()).toBe(422);
    expect(error.message).toContain('temperature: must be a number from 0 to 1');
  });

  it('uses the route default when stream is absent', () => {
    expect(parseChatRequest({ messages }, true).stream).toBe(true);
    expect(parseChatRequest({ messages }, false).stream).toBe(false);
  });

  it.each([
    [{ messages, temperature: 3 }, 'temperature'],
    [{ messages: [] }, 'messages'],
    [{}, 'messages'],
    [{ messages, max_tokens: 'x' }, 'max_tokens'],
    [{ messages, max_tokens: 0 }, 'max_tokens'],
    [{ messages: [{ role: 'wizard', content: 'x' }] }, 'messages.0.role'],
    [{ messages, metadata: { role_id: 5 } }, 'metadata.role_id'],
    [{ messages, stream: 'yes' }, 'stream'],
    [{ messages: 'hi' }, 'messages'],
    [{ messages: ['hi'] }, 'messages.0'],
    [{ messages: [...messages, { content: 'x' }] }, 'messages.1.role'],
    [{ messages, metadata: [1] }, 'metadata'],
    [{ messages, metadata: { enable_l0_retrieval: 'yes' } }, 'metadata.enable_l0_retrieval'],
    [{ messages, temperature: '0.5' }, 'temperature'],
    [{ messages, temperature: -0.1 }, 'temperature'],
    [{ messages, max_tokens: 1.5 }, 'max_tokens'],
  ])('rejects %j naming %s', (body, field) => {
    const error = rejection(body);
    expect(error.getStatus()).toBe(422);
    expect(error.details.param).toBe(field);
    expect(error.message).toContain(field);
  });

  it('names every problem, the first one as param', () => {
    const error = rejection({ messages: [], temperature: 2, stream: 1 });
    expect(error.details.param).toBe('messages');
    expect(error.message).toMatch(/messages: .*; temperature: .*; stream: /);
  });

  // The hand-written checks replace class-validator on the hot path; the DTO still documents the
  // rules in OpenAPI. Both must accept and reject the same bodies.
  it.each([
    { messages },
    {
      messages,
      temperature: 0,
      max_tokens: 1,
      stream: true,
      metadata: { role_id: 'r', enable_l0_retrieval: false },
    },
    { messages, temperature: null, max_tokens: null, stream: null, metadata: null },
    { messages: [{ role: 'assistant', content: null }, { role: 'tool' }] },
    { messages, extra: { anything: [1, 2] }, model: 5 },
    {},
    { messages: [] },
    { messages: [null] },
    { messages: ['x'] },
    { messages: [{ role: 'USER' }] },
    { messages, temperature: 1.01 },
    { messages, max_tokens: 2.5 },
    { messages, max_tokens: '10' },
    { messages, metadata: 'x' },
    { messages, metadata: { role_id: 1 } },
    { messages, stream: 0 },
  ])('agrees with ChatCompletionDto on %j', (body) => {
    const dtoErrors = validateSync(plainToInstance(ChatCompletionDto, body), { forbidUnknownValues: false });
    expect(chatBodyProblems(body).length > 0).toBe(dtoErrors.length > 0);
  });

  it.each([
    { messages, temperature: 1.5 },
    { messages, temperature: 2 },
    { messages, temperature: 2.01 },
    { messages, temperature: -1 },
    { messages },
    { messages, max_tokens: 0 },
    {},
  ])('agrees with OpenAiChatCompletionDto on %j', (body) => {
    const dtoErrors = validateSync(plainToInstance(OpenAiChatCompletionDto, body), {
      forbidUnknownValues: false,
    });
    expect(chatBodyProblems(body, 'openai').length > 0).toBe(dtoErrors.length > 0);
  });

  it('rejects a body that is not an object', () => {
    expect(rejection([1, 2]).getStatus()).toBe(422);
    expect(rejection(null).getStatus()).toBe(422);
  });
});
