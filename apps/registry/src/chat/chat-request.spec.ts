import { ApiError } from '../common/http-errors';
import { parseChatRequest } from './chat-request';

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
  ])('rejects %j naming %s', (body, field) => {
    const error = rejection(body);
    expect(error.getStatus()).toBe(422);
    expect(error.details.param).toBe(field);
    expect(error.message).toContain(field);
  });

  it('rejects a body that is not an object', () => {
    expect(rejection([1, 2]).getStatus()).toBe(422);
    expect(rejection(null).getStatus()).toBe(422);
  });
});
