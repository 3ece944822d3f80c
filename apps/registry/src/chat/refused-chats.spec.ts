import { ApiError, instanceNotFound } from '../common/http-errors';
import type { KeyDirectory, KnownKey } from '../keys/key-directory';
import type { AppConfig } from '../config/app-config';
import { RequestLog } from '../inspector/request-log';
import type { NodeRequestLog } from '../inspector/node-request-log';
import type { BodyCapture } from '../inspector/body-capture';
import type { UsageRecorder } from '../usage/usage-recorder';
import type { ChatCall } from './chat-relay.service';
import type { InstanceDirectory } from './instance-directory';
import { RefusedChats } from './refused-chats';

const KEY = `sk-${'a'.repeat(43)}`;
const OTHER_KEY = `sk-${'b'.repeat(43)}`;
const settled = () => new Promise((resolve) => setImmediate(resolve));

function refusedChats() {
  const counted: Array<[string, string | null, number, string]> = [];
  const directory = {
    lookup: async (id: string) => ({ exists: id !== 'gone' }),
  } as unknown as InstanceDirectory;
  const keys = {
    lookup: async (secret: string): Promise<Partial<KnownKey> | null> =>
      secret === KEY
        ? { id: 'key_1', instanceId: 'inst', revoked: true }
        : secret === OTHER_KEY
          ? { id: 'key_2', instanceId: 'elsewhere', revoked: false }
          : null,
  } as unknown as KeyDirectory;
  const usage = {
    refused: (instanceId: string, keyId: string | null, endpoint: string, status: number) =>
      counted.push([instanceId, keyId, status, endpoint]),
  } as unknown as UsageRecorder;
  const log = new RequestLog();
  const config = { nodeId: 'node-a' } as AppConfig;
  const kept: string[] = [];
  const capture = {
    keep: (_i: string, _id: string, request: string) => kept.push(request),
  } as unknown as BodyCapture;
  return {
    refused: new RefusedChats(directory, keys, usage, log as NodeRequestLog, config, capture),
    counted,
    log,
    kept,
  };
}

const call = (instanceId: string, authorization?: string, over: Partial<ChatCall> = {}) =>
  ({
    instanceId,
    authorization,
    body: { model: 'llama3', messages: [] },
    ip: '203.0.113.9',
    endpoint: '/api/chat/{id}',
    ...over,
  }) as ChatCall;

describe('RefusedChats', () => {
  it('counts each refused status under the instance, and under its own key when the caller sent one', async () => {
    const { refused, counted } = refusedChats();
    refused.note(call('inst'), new ApiError(401, 'no key'), 1, 'chat');
    refused.note(call('inst', `Bearer ${KEY}`), new ApiError(401, 'this access key was revoked'), 1, 'chat');
    refused.note(call('inst', `Bearer ${KEY}`), new ApiError(429, 'limited'), 1, 'chat');
    refused.note(call('inst', `Bearer ${OTHER_KEY}`), new ApiError(403, 'model not allowed'), 1, 'chat');
    refused.note(call('inst', 'Bearer not-a-key'), new ApiError(422, 'messages is required'), 1, 'chat');
    refused.note(call('inst'), new ApiError(503, 'not connected'), 1, 'chat');
    await settled();
    // Key lookups take their own time: the order of the counts is not the order of the refusals.
    expect(counted).toHaveLength(6);
    expect(counted).toEqual(
      expect.arrayContaining([
        ['inst', null, 401, 'chat'],
        ['inst', 'key_1', 401, 'chat'],
        ['inst', 'key_1', 429, 'chat'],
        ['inst', null, 403, 'chat'], // another instance's key is not this owner's to see
        ['inst', null, 422, 'chat'],
        ['inst', null, 503, 'chat'],
      ]),
    );
  });

  it('counts a refused relayed request under its endpoint', async () => {
    const { refused, counted } = refusedChats();
    const embeddings = call('inst', `Bearer ${KEY}`, { endpoint: '/api/chat/{id}/embeddings' });
    refused.note(embeddings, new ApiError(429, 'limited'), 1, 'embeddings');
    await settled();
    expect(counted).toEqual([['inst', 'key_1', 429, 'embeddings']]);
  });

  it('counts no unknown instance, other statuses or errors that are not refusals', async () => {
    const { refused, counted, log } = refusedChats();
    refused.note(call('gone'), new ApiError(401, 'no key'), 1, 'chat');
    refused.note(call('inst'), instanceNotFound('inst'), 1, 'chat');
    refused.note(call('inst'), new ApiError(413, 'too large'), 1, 'chat');
    refused.note(call('inst'), new Error('a bug'), 1, 'chat');
    await settled();
    expect(counted).toEqual([]);
    // The owner's inspector still lists what happened to their instance's callers.
    expect(log.query('gone', { since: 0, limit: 10 })).toEqual([]);
    const statuses = log.query('inst', { since: 0, limit: 10 }).map((r) => [r.status, r.outcome]);
    expect(statuses).toEqual(
      expect.arrayContaining([
        [404, 'refused'],
        [413, 'refused'],
        [500, 'failed'],
      ]),
    );
  });

  it('lists a refusal in the inspector with its code, key, masked address and echoed request id', async () => {
    const { refused, log } = refusedChats();
    const traced = call('inst', `Bearer ${KEY}`, {
      requestId: 'trace-1234567890',
      endpoint: '/api/chat/{id}/chat/completions',
    });
    refused.note(
      traced,
      new ApiError(422, 'messages: must not be empty', { code: 'invalid_value' }),
      3.4,
      'chat',
    );
    await settled();
    expect(log.query('inst', { since: 0, limit: 10 })).toEqual([
      expect.objectContaining({
        endpoint: '/api/chat/{id}/chat/completions',
        model: 'llama3',
        key_id: 'key_1',
        status: 422,
        code: 'invalid_value',
        outcome: 'refused',
        ttft_ms: null,
        duration_ms: 3,
        node: 'node-a',
        caller: '203.0.113.0/24',
        request_id: 'trace-1234567890',
      }),
    ]);
  });
});
