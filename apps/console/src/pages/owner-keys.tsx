import { useState } from 'preact/hooks';
import { AccessKey, api, ApiFailure, InstancePolicy, IssuedKey } from '../api';
import { CopyBlock } from '../components/copy-block';
import { ErrorNote } from '../components/error-note';
import { commaList, dateTime, optionalInt } from '../format';
import { acceptedModel, javascriptSnippet, pythonSnippet } from '../snippets';

interface OwnerKeysProps {
  instanceId: string;
  path: string;
  auth: string;
  /** The newest keys; `total` counts them all. */
  keys: AccessKey[];
  total: number;
  onMore: () => void;
  onChanged: () => void;
  /** What a new key's snippets must respect to name a model the registry accepts. */
  policy: InstancePolicy | null;
  announced: string[];
}

const limitsOf = (key: AccessKey) =>
  [
    key.rpm !== null ? `${key.rpm}/min` : null,
    key.max_concurrent !== null ? `${key.max_concurrent} at once` : null,
    key.tokens_per_day !== null ? `${key.tokens_per_day.toLocaleString()} tokens/day` : null,
    key.models?.length ? `models: ${key.models.join(', ')}` : null,
  ]
    .filter(Boolean)
    .join(' · ') || 'none';

/** Access keys: create one (its secret shown once, with an SDK snippet), list them, revoke one after a confirm. */
export function OwnerKeys(props: OwnerKeysProps) {
  const { instanceId, path, auth, keys, total, onMore, onChanged, policy, announced } = props;
  const [name, setName] = useState('');
  const [expires, setExpires] = useState('');
  const [rpm, setRpm] = useState('');
  const [concurrent, setConcurrent] = useState('');
  const [tokensPerDay, setTokensPerDay] = useState('');
  const [models, setModels] = useState('');
  const [issued, setIssued] = useState<IssuedKey | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [error, setError] = useState<ApiFailure | null>(null);

  const run = async (action: () => Promise<void>) => {
    setError(null);
    try {
      await action();
    } catch (failure) {
      setError(failure instanceof ApiFailure ? failure : new ApiFailure(0, String(failure)));
    }
  };
  const create = () =>
    run(async () => {
      const body = {
        name: name.trim(),
        expires_at: expires ? new Date(expires).toISOString() : undefined,
        rpm: optionalInt(rpm),
        max_concurrent: optionalInt(concurrent),
        tokens_per_day: optionalInt(tokensPerDay),
        models: commaList(models).length ? commaList(models) : undefined,
      };
      setIssued(await api<IssuedKey>(`${path}/keys`, { method: 'POST', body, authorization: auth }));
      setName('');
      onChanged();
    });
  const revoke = (keyId: string) =>
    run(async () => {
      await api(`${path}/keys/${encodeURIComponent(keyId)}`, { method: 'DELETE', authorization: auth });
      setConfirming(null);
      onChanged();
    });

  const model = acceptedModel(policy, issued?.models ?? null, announced);
  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">Access keys</h2>
      <p class="muted">
        A private instance answers only calls with one of its keys; on a public one a key is optional and its
        limits apply. Limits hold across all nodes; empty means none. Revoked and expired keys stay listed
        until the registry deletes them (after 30 days by default).
      </p>
      <form
        class="key-form"
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <label>
          Key name
          <input required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Expires (optional)
          <input type="datetime-local" value={expires} onInput={(e) => setExpires(e.currentTarget.value)} />
        </label>
        <label>
          Requests per minute
          <input type="number" min={1} step={1} value={rpm} onInput={(e) => setRpm(e.currentTarget.value)} />
        </label>
        <label>
          Chats at once
          <input
            type="number"
            min={1}
            step={1}
            value={concurrent}
            onInput={(e) => setConcurrent(e.currentTarget.value)}
          />
        </label>
        <label>
          Tokens per day
          <input
            type="number"
            min={1}
            step={1}
            value={tokensPerDay}
            onInput={(e) => setTokensPerDay(e.currentTarget.value)}
          />
        </label>
        <label>
          Models (comma-separated; empty: all)
          <input value={models} onInput={(e) => setModels(e.currentTarget.value)} />
        </label>
        <div class="actions">
          <button type="submit">Create key</button>
        </div>
      </form>
      <ErrorNote error={error} />
      {issued ? (
        <div class="secret" role="status">
          <p>
            <strong>Copy the key "{issued.name}" now: it is shown only this once.</strong> The registry keeps
            only its hash; lost, it can only be revoked and replaced.
          </p>
          <CopyBlock label="Key" text={issued.key} testId="new-key" />
          <CopyBlock
            label="OpenAI JavaScript with this key"
            text={javascriptSnippet(location.origin, instanceId, model, issued.key)}
          />
          <CopyBlock
            label="OpenAI Python with this key"
            text={pythonSnippet(location.origin, instanceId, model, issued.key)}
          />
          <div class="actions">
            <button type="button" class="secondary" onClick={() => setIssued(null)}>
              I have copied it
            </button>
          </div>
        </div>
      ) : null}
      {keys.length === 0 ? (
        <p class="muted">No keys yet.</p>
      ) : (
        <div class="table-wrap">
          <table class="stacked" data-testid="keys-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Prefix</th>
                <th scope="col">Limits</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {keys.map((key) => (
                <tr data-key={key.key_id}>
                  <th scope="row">{key.name}</th>
                  <td data-label="Prefix">
                    <code>{key.prefix}…</code>
                  </td>
                  <td data-label="Limits">{limitsOf(key)}</td>
                  <td data-label="Created">{dateTime(key.created_at)}</td>
                  <td data-label="Last used">{dateTime(key.last_used_at)}</td>
                  <td data-label="Expires">{key.expires_at ? dateTime(key.expires_at) : 'never'}</td>
                  <td data-label="State">
                    {key.revoked ? (
                      'revoked'
                    ) : confirming === key.key_id ? (
                      <span class="actions">
                        <button type="button" class="danger small" onClick={() => void revoke(key.key_id)}>
                          Yes, revoke {key.name}
                        </button>
                        <button type="button" class="secondary small" onClick={() => setConfirming(null)}>
                          Keep it
                        </button>
                      </span>
                    ) : (
                      <button
                        type="button"
                        class="secondary small"
                        aria-label={`Revoke key ${key.name}`}
                        onClick={() => setConfirming(key.key_id)}
                      >
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {keys.length < total ? (
        <div class="actions">
          <span class="muted" data-testid="keys-shown">
            Newest {keys.length} of {total} keys.
          </span>
          <button type="button" class="secondary" onClick={onMore}>
            Show more keys
          </button>
        </div>
      ) : null}
    </section>
  );
}
