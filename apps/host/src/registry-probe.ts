import { describeUpstreamError } from './upstream';
import type { RegistryProbe } from './startup-checks';

export interface ProbeOptions {
  timeoutMs?: number;
  /** Injectable for tests. */
  fetch?: typeof fetch;
}

/** `<registry>/api/upload/<id>` over http(s), whatever scheme --registry was given in. */
export function instanceUrl(registryUrl: string, instanceId: string): string {
  const url = new URL(registryUrl);
  if (url.protocol === 'ws:') url.protocol = 'http:';
  else if (url.protocol === 'wss:') url.protocol = 'https:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/upload/${encodeURIComponent(instanceId)}`;
  return url.toString();
}

/** The registry's envelope (`{code, message, data}`), as opposed to some other server's answer. */
async function isRegistryAnswer(res: Response): Promise<boolean> {
  if (!(res.headers.get('content-type') ?? '').includes('application/json')) {
    await res.body?.cancel().catch(() => undefined);
    return false;
  }
  const body = (await res.json().catch(() => null)) as { code?: unknown; message?: unknown } | null;
  return typeof body?.code === 'number' && typeof body.message === 'string';
}

/**
 * Checks that the registry answers and accepts the credentials, without connecting as a host: an
 * authenticated read of the instance (GET /api/upload/<id>). A WebSocket would take the replica's
 * slot and push out a running agent of the same name.
 */
export async function probeRegistry(
  registryUrl: string,
  instanceId: string,
  password: string,
  options: ProbeOptions = {},
): Promise<RegistryProbe> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  let res: Response;
  try {
    res = await (options.fetch ?? fetch)(instanceUrl(registryUrl, instanceId), {
      headers: { authorization: `Bearer ${instanceId}:${password}`, accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const e = error as { name?: unknown; cause?: unknown } | null;
    if (e?.name === 'TimeoutError') return { kind: 'unreachable', error: `no answer within ${timeoutMs} ms` };
    // fetch says only "fetch failed"; its cause says what (ECONNREFUSED, ENOTFOUND, a TLS error).
    return { kind: 'unreachable', error: describeUpstreamError(e?.cause ?? error) };
  }
  const ours = await isRegistryAnswer(res);
  if (ours && res.status === 200) return { kind: 'accepted' };
  if (ours && res.status === 401) return { kind: 'unauthorized' };
  if (ours && res.status === 404) return { kind: 'not_found' };
  if (ours && res.status === 429) return { kind: 'too_many_failures' };
  const location = res.headers.get('location') ?? undefined;
  return { kind: 'unexpected', status: res.status, ...(location ? { location } : {}) };
}
