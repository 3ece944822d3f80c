/** Owner calls around private instances (keys, usage, visibility) and a keyed chat, for e2e tests. */
import type { Envelope, IssuedKey, OpenAiErrorBody, UsagePeriod, UsageReport } from '@app/contracts';
import type { Registered } from './registry-client';

async function envelope<T>(res: Response): Promise<T> {
  const body = (await res.json()) as Envelope<T>;
  if (res.status !== 200) throw new Error(`answered ${res.status}: ${body.message}`);
  return body.data!;
}

export async function updateInstance(baseUrl: string, instance: Registered, body: unknown): Promise<void> {
  await envelope(
    await fetch(`${baseUrl}/api/upload/${instance.instanceId}`, {
      method: 'PUT',
      headers: { authorization: instance.auth, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
}

export async function createKey(baseUrl: string, instance: Registered, body: unknown): Promise<IssuedKey> {
  return envelope<IssuedKey>(
    await fetch(`${baseUrl}/api/upload/${instance.instanceId}/keys`, {
      method: 'POST',
      headers: { authorization: instance.auth, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
}

export async function revokeKey(baseUrl: string, instance: Registered, keyId: string): Promise<void> {
  await envelope(
    await fetch(`${baseUrl}/api/upload/${instance.instanceId}/keys/${keyId}`, {
      method: 'DELETE',
      headers: { authorization: instance.auth },
    }),
  );
}

export async function usage(baseUrl: string, instance: Registered, query: string): Promise<UsagePeriod[]> {
  return (await usageReport(baseUrl, instance, query)).items;
}

/** The whole usage answer: its periods and its totals per endpoint. */
export async function usageReport(
  baseUrl: string,
  instance: Registered,
  query: string,
): Promise<UsageReport> {
  const res = await fetch(`${baseUrl}/api/upload/${instance.instanceId}/usage?${query}`, {
    headers: { authorization: instance.auth },
  });
  return envelope<UsageReport>(res);
}

export interface ChatAnswer {
  status: number;
  headers: Headers;
  body: Partial<OpenAiErrorBody> & { [k: string]: unknown };
}

/** One non-streamed chat through the OpenAI path, with `key` as the bearer when given. */
export async function keyedChat(
  baseUrl: string,
  instanceId: string,
  key: string | undefined,
  extra: Record<string, unknown> = {},
): Promise<ChatAnswer> {
  const res = await fetch(`${baseUrl}/api/chat/${instanceId}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], stream: false, ...extra }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as ChatAnswer['body'] };
}
