import { ApiError, instanceNotFound } from '../common/http-errors';
import type { KeyDirectory, KnownKey } from '../keys/key-directory';
import type { UsageRecorder } from '../usage/usage-recorder';
import type { InstanceDirectory } from './instance-directory';
import { RefusedChats } from './refused-chats';

const KEY = `sk-${'a'.repeat(43)}`;
const OTHER_KEY = `sk-${'b'.repeat(43)}`;
const settled = () => new Promise((resolve) => setImmediate(resolve));

function refusedChats() {
  const counted: Array<[string, string | null, number]> = [];
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
    refused: (instanceId: string, keyId: string | null, status: number) =>
      counted.push([instanceId, keyId, status]),
  } as unknown as UsageRecorder;
  return { refused: new RefusedChats(directory, keys, usage), counted };
}

describe('RefusedChats', () => {
  it('counts each refused status under the instance, and under its own key when the caller sent one', async () => {
    const { refused, counted } = refusedChats();
    refused.note('inst', undefined, new ApiError(401, 'no key'));
    refused.note('inst', `Bearer ${KEY}`, new ApiError(401, 'this access key was revoked'));
    refused.note('inst', `Bearer ${KEY}`, new ApiError(429, 'limited'));
    refused.note('inst', `Bearer ${OTHER_KEY}`, new ApiError(403, 'model not allowed'));
    refused.note('inst', 'Bearer not-a-key', new ApiError(422, 'messages is required'));
    refused.note('inst', undefined, new ApiError(503, 'not connected'));
    await settled();
    // Key lookups take their own time: the order of the counts is not the order of the refusals.
    expect(counted).toHaveLength(6);
    expect(counted).toEqual(
      expect.arrayContaining([
        ['inst', null, 401],
        ['inst', 'key_1', 401],
        ['inst', 'key_1', 429],
        ['inst', null, 403], // another instance's key is not this owner's to see
        ['inst', null, 422],
        ['inst', null, 503],
      ]),
    );
  });

  it('ignores unknown instances, other statuses and errors that are not refusals', async () => {
    const { refused, counted } = refusedChats();
    refused.note('gone', undefined, new ApiError(401, 'no key'));
    refused.note('inst', undefined, instanceNotFound('inst'));
    refused.note('inst', undefined, new ApiError(413, 'too large'));
    refused.note('inst', undefined, new Error('a bug'));
    await settled();
    expect(counted).toEqual([]);
  });
});
