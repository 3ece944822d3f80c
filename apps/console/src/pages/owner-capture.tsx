import { useEffect, useState } from 'preact/hooks';
import type { CaptureState } from '@app/contracts';
import { api, ApiFailure } from '../api';
import { ErrorNote } from '../components/error-note';

const DURATIONS: Array<[number, string]> = [
  [15, '15 minutes'],
  [60, '1 hour'],
  [240, '4 hours'],
  [1440, '24 hours'],
];

/** The owner's body-capture switch: off by default, on for a limited time, with what it means. */
export function OwnerCapture({ path, auth }: { path: string; auth: string }) {
  const [until, setUntil] = useState<string | null>(null);
  const [minutes, setMinutes] = useState(60);
  const [error, setError] = useState<ApiFailure | null>(null);
  const call = (method: string, body?: unknown) =>
    api<CaptureState>(`${path}/capture`, { method, body, authorization: auth }).then(
      (state) => {
        setError(null);
        setUntil(state.until);
      },
      (failure: ApiFailure) => setError(failure),
    );
  useEffect(() => void call('GET'), [path, auth]);
  const on = until !== null && Date.parse(until) > Date.now();
  return (
    <div class="capture" data-testid="capture">
      <p class="notice">
        Bodies are visible only to you, kept in memory on the registry nodes, never logged, deleted when
        capture ends.
      </p>
      <div class="row">
        {on ? (
          <>
            <span data-testid="capture-state">
              Capturing request and response bodies until {new Date(until).toLocaleString()}
            </span>
            <button type="button" onClick={() => void call('DELETE')}>
              Stop capturing
            </button>
          </>
        ) : (
          <>
            <label>
              Capture bodies for
              <select value={minutes} onChange={(e) => setMinutes(Number(e.currentTarget.value))}>
                {DURATIONS.map(([value, label]) => (
                  <option value={value}>{label}</option>
                ))}
              </select>
            </label>
            <button type="button" onClick={() => void call('PUT', { minutes })}>
              Capture bodies
            </button>
            <span class="muted" data-testid="capture-state">
              Off: no bodies are kept.
            </span>
          </>
        )}
      </div>
      <ErrorNote error={error} prefix="Capture could not be changed" />
    </div>
  );
}
