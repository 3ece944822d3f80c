import { useState } from 'preact/hooks';
import { api, ApiFailure, Registered } from '../api';
import { ErrorNote } from '../components/error-note';
import { NewPassword } from '../components/new-password';
import { instanceHref } from '../route';
import { ownerSession } from '../session';

export function Register() {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [email, setEmail] = useState('');
  const [modelName, setModelName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiFailure | null>(null);
  const [done, setDone] = useState<Registered | null>(null);

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      const registered = await api<Registered>('/api/upload/register', {
        method: 'POST',
        body: {
          upload_name: name.trim(),
          instance_id: null,
          description: description.trim(),
          ...(email.trim() ? { email: email.trim() } : {}),
          config: modelName.trim() ? { model_name: modelName.trim() } : {},
        },
      });
      // Signed in as its owner for this tab, so Manage works without typing the password again.
      ownerSession.set({ instanceId: registered.instance_id, password: registered.instance_password });
      setDone(registered);
    } catch (failure) {
      setError(failure instanceof ApiFailure ? failure : new ApiFailure(0, String(failure)));
    } finally {
      setBusy(false);
    }
  };

  if (done)
    return (
      <section aria-labelledby="register-title">
        <h1 id="register-title">Registered</h1>
        <p>
          Instance id <code data-testid="new-instance-id">{done.instance_id}</code>
        </p>
        <NewPassword instanceId={done.instance_id} password={done.instance_password} />
        <p>
          Then open <a href={instanceHref(done.instance_id)}>its page</a>: it turns <em>online</em> as soon as
          the agent connects.
        </p>
      </section>
    );
  return (
    <section aria-labelledby="register-title">
      <h1 id="register-title">Register an instance</h1>
      <p class="muted">
        You get an instance id and a password. The host agent uses them to connect your model; anyone may then
        chat with it at its chat URL.
      </p>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label>
          Name
          <input required maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Description
          <textarea
            rows={2}
            maxLength={2000}
            value={description}
            onInput={(e) => setDescription(e.currentTarget.value)}
          />
        </label>
        <label>
          Model (optional; listed until your host announces the models it serves)
          <input
            value={modelName}
            placeholder="llama3"
            onInput={(e) => setModelName(e.currentTarget.value)}
          />
        </label>
        <label>
          Email (optional, shown masked)
          <input type="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </label>
        <ErrorNote error={error} />
        <div class="actions">
          <button type="submit" disabled={busy || !name.trim()}>
            Register
          </button>
        </div>
      </form>
    </section>
  );
}
