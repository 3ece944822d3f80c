import type { ApiFailure } from '../api';

/** An error as the error it is: status, the server's message and code. */
export function ErrorNote({ error, prefix }: { error: ApiFailure | null; prefix?: string }) {
  if (!error) return null;
  return (
    <p class="error" role="alert" data-status={error.status || undefined}>
      {prefix ? `${prefix}: ` : ''}
      {error.describe()}
      {error.code ? <span class="code"> ({error.code})</span> : null}
    </p>
  );
}
