import { useEffect, useState } from 'preact/hooks';
import type { CapturedBody } from '@app/contracts';
import { api, ApiFailure } from '../api';
import { ErrorNote } from '../components/error-note';
import { handToPlayground, playgroundLoad } from '../conversation';
import { instanceHref } from '../route';

/** One request's captured bodies, fetched when opened, with "Try in playground". */
export function RequestBody(props: { path: string; auth: string; instanceId: string; id: string }) {
  const { path, auth, instanceId, id } = props;
  const [body, setBody] = useState<CapturedBody | null>(null);
  const [error, setError] = useState<ApiFailure | null>(null);
  useEffect(() => {
    setBody(null);
    api<CapturedBody>(`${path}/requests/${encodeURIComponent(id)}/body`, { authorization: auth }).then(
      setBody,
      setError,
    );
  }, [path, auth, id]);
  if (error) return <ErrorNote error={error} prefix="The bodies could not be loaded" />;
  if (!body) return <p class="muted">Loading…</p>;
  const load = playgroundLoad(body.request);
  let request = body.request;
  try {
    request = JSON.stringify(JSON.parse(body.request), null, 2);
  } catch {
    // cut at 32 KiB: shown as it is
  }
  return (
    <div class="request-body" data-testid="request-body">
      <h3>Request{body.request_truncated ? ' (cut at 32 KiB)' : ''}</h3>
      <pre>{request}</pre>
      <h3>Response{body.response_truncated ? ' (cut at 32 KiB)' : ''}</h3>
      <pre data-testid="request-body-response">{body.response || '(no answer text)'}</pre>
      {load ? (
        <button
          type="button"
          onClick={() => {
            handToPlayground(instanceId, load);
            location.hash = instanceHref(instanceId);
          }}
        >
          Try in playground
        </button>
      ) : null}
    </div>
  );
}
