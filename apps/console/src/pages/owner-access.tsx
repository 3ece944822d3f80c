import { useState } from 'preact/hooks';
import { api, ApiFailure, InstanceDetail, InstancePolicy, USAGE_ENDPOINTS, Visibility } from '../api';
import { ErrorNote } from '../components/error-note';
import { commaList, optionalInt } from '../format';
import { ENDPOINT_LABELS } from '../usage-periods';

type ModelRule = 'any' | 'allowed' | 'pinned';

const ruleOf = (policy: InstancePolicy | null): ModelRule =>
  policy?.pinned_model ? 'pinned' : policy?.allowed_models ? 'allowed' : 'any';

/** Visibility and the owner policy, saved together with one PUT; an empty policy is cleared (null). */
export function OwnerAccess({
  path,
  auth,
  detail,
  onSaved,
}: {
  path: string;
  auth: string;
  detail: InstanceDetail;
  onSaved: () => void;
}) {
  const [visibility, setVisibility] = useState<Visibility>(detail.visibility);
  const [rule, setRule] = useState<ModelRule>(ruleOf(detail.policy));
  const [allowed, setAllowed] = useState((detail.policy?.allowed_models ?? []).join(', '));
  const [pinned, setPinned] = useState(detail.policy?.pinned_model ?? '');
  const [ceiling, setCeiling] = useState(detail.policy?.max_tokens?.toString() ?? '');
  // Every endpoint ticked: no list (all allowed, as ones added later will be).
  const [endpoints, setEndpoints] = useState<string[]>(detail.policy?.endpoints ?? [...USAGE_ENDPOINTS]);
  const toggle = (endpoint: string, on: boolean) =>
    setEndpoints((now) => USAGE_ENDPOINTS.filter((e) => (e === endpoint ? on : now.includes(e))));
  const [notice, setNotice] = useState('');
  const [error, setError] = useState<ApiFailure | null>(null);

  const save = async () => {
    setError(null);
    setNotice('');
    const policy: InstancePolicy = {};
    if (rule === 'allowed') policy.allowed_models = commaList(allowed);
    if (rule === 'pinned') policy.pinned_model = pinned.trim();
    const maxTokens = optionalInt(ceiling);
    if (maxTokens !== undefined) policy.max_tokens = maxTokens;
    if (endpoints.length === 0) {
      setError(new ApiFailure(0, 'Allow at least one endpoint (or make the instance private).'));
      return;
    }
    if (endpoints.length < USAGE_ENDPOINTS.length) policy.endpoints = endpoints;
    try {
      await api(path, {
        method: 'PUT',
        authorization: auth,
        body: { visibility, policy: Object.keys(policy).length ? policy : null },
      });
      setNotice('Access saved.');
      onSaved();
    } catch (failure) {
      setError(failure instanceof ApiFailure ? failure : new ApiFailure(0, String(failure)));
    }
  };

  return (
    <section aria-labelledby="access-title">
      <h2 id="access-title">Access</h2>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <fieldset>
          <legend>Visibility</legend>
          <label class="choice">
            <input
              type="radio"
              name="visibility"
              checked={visibility === 'public'}
              onChange={() => setVisibility('public')}
            />
            Public: listed in the directory, anyone may chat
          </label>
          <label class="choice">
            <input
              type="radio"
              name="visibility"
              checked={visibility === 'private'}
              onChange={() => setVisibility('private')}
            />
            Private: not listed, chats need an access key
          </label>
        </fieldset>
        <label>
          Models callers may use
          <select value={rule} onChange={(e) => setRule(e.currentTarget.value as ModelRule)}>
            <option value="any">Any the host offers</option>
            <option value="allowed">Only these</option>
            <option value="pinned">Always this one (pinned)</option>
          </select>
        </label>
        {rule === 'allowed' ? (
          <label>
            Allowed models (comma-separated)
            <input required value={allowed} onInput={(e) => setAllowed(e.currentTarget.value)} />
          </label>
        ) : null}
        {rule === 'pinned' ? (
          <label>
            Pinned model
            <input
              required
              maxLength={256}
              value={pinned}
              onInput={(e) => setPinned(e.currentTarget.value)}
            />
          </label>
        ) : null}
        <label>
          Max tokens ceiling (empty: none)
          <input
            type="number"
            min={1}
            step={1}
            value={ceiling}
            onInput={(e) => setCeiling(e.currentTarget.value)}
          />
        </label>
        <fieldset>
          <legend>Endpoints callers may use</legend>
          {USAGE_ENDPOINTS.map((endpoint) => (
            <label class="choice" key={endpoint}>
              <input
                type="checkbox"
                name="endpoints"
                value={endpoint}
                checked={endpoints.includes(endpoint)}
                onChange={(e) => toggle(endpoint, e.currentTarget.checked)}
              />
              {ENDPOINT_LABELS[endpoint]}
            </label>
          ))}
          <p class="muted">Callers of an unticked one get 403, with any key.</p>
        </fieldset>
        <ErrorNote error={error} />
        {notice ? (
          <p class="notice" role="status">
            {notice}
          </p>
        ) : null}
        <div class="actions">
          <button type="submit">Save access</button>
        </div>
      </form>
    </section>
  );
}
