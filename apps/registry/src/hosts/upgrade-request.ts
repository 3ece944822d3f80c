import type { IncomingMessage } from 'node:http';
import { parseBearerCredentials } from '@app/protocol';

const SOCKET_PATH = /^\/api\/ws\/([^/?#]+)\/?$/;

export type UpgradeTarget =
  | { kind: 'not_found' }
  | { kind: 'unauthenticated'; instanceId: string }
  | { kind: 'credentials'; instanceId: string; password: string };

/**
 * Reads the instance id and secret from a host's upgrade request: `?password=` (stock Second Me)
 * or `Authorization: Bearer <id>:<password>` (our agent). The URL is never logged by callers.
 */
export function parseUpgradeRequest(request: Pick<IncomingMessage, 'url' | 'headers'>): UpgradeTarget {
  const url = new URL(request.url ?? '/', 'http://registry.invalid');
  const match = SOCKET_PATH.exec(url.pathname);
  if (!match) return { kind: 'not_found' };
  let instanceId: string;
  try {
    instanceId = decodeURIComponent(match[1]);
  } catch {
    return { kind: 'not_found' };
  }
  const bearer = parseBearerCredentials(request.headers.authorization);
  if (bearer) {
    if (bearer.instanceId !== instanceId) return { kind: 'unauthenticated', instanceId };
    return { kind: 'credentials', instanceId, password: bearer.password };
  }
  const password = url.searchParams.get('password');
  if (password) return { kind: 'credentials', instanceId, password };
  return { kind: 'unauthenticated', instanceId };
}
