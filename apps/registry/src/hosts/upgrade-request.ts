import type { IncomingMessage } from 'node:http';
import { isReplicaName, parseBearerCredentials, REPLICA_HEADER, REPLICA_QUERY } from '@app/protocol';

const SOCKET_PATH = /^\/api\/ws\/([^/?#]+)\/?$/;

export type UpgradeTarget =
  | { kind: 'not_found' }
  | { kind: 'unauthenticated'; instanceId: string }
  | { kind: 'bad_replica'; instanceId: string }
  | { kind: 'credentials'; instanceId: string; password: string; replica: string };

/** The replica the host names (`X-Replica`, else `?replica=`); '' for none; null when invalid. */
function replicaOf(request: Pick<IncomingMessage, 'headers'>, url: URL): string | null {
  const header = request.headers[REPLICA_HEADER];
  const raw = typeof header === 'string' ? header : (url.searchParams.get(REPLICA_QUERY) ?? '');
  if (Array.isArray(header)) return null;
  if (raw === '') return '';
  return isReplicaName(raw) ? raw : null;
}

/**
 * Reads the instance id and secret from a host's upgrade request: `?password=` (stock Second Me)
 * or `Authorization: Bearer <id>:<password>` (our agent), and the replica name (`X-Replica` or
 * `?replica=`; none = the unnamed replica of a stock host). The URL is never logged by callers.
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
  const replica = replicaOf(request, url);
  const bearer = parseBearerCredentials(request.headers.authorization);
  if (bearer) {
    if (bearer.instanceId !== instanceId) return { kind: 'unauthenticated', instanceId };
    if (replica === null) return { kind: 'bad_replica', instanceId };
    return { kind: 'credentials', instanceId, password: bearer.password, replica };
  }
  const password = url.searchParams.get('password');
  if (!password) return { kind: 'unauthenticated', instanceId };
  if (replica === null) return { kind: 'bad_replica', instanceId };
  return { kind: 'credentials', instanceId, password, replica };
}
