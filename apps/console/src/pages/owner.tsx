import { useEffect, useState } from 'preact/hooks';
import { api, ApiFailure, InstanceDetail, KeyPage, ownerAuth, Registered } from '../api';
import { ErrorNote } from '../components/error-note';
import { ReplicaList } from '../components/replica-list';
import { NewPassword } from '../components/new-password';
import { StatusBadge } from '../components/status-badge';
import { usePoll } from '../components/use-poll';
import { instanceHref } from '../route';
import { OwnerSession, ownerSession } from '../session';
import { OwnerAccess } from './owner-access';
import { OwnerKeys } from './owner-keys';
import { OwnerRequests } from './owner-requests';
import { OwnerUsage } from './owner-usage';

/** Refreshes each key's "last used" while the page is open. */
const KEYS_POLL_MS = 10_000;
/** Keys shown at first, and added by each "Show more keys". */
const KEYS_STEP = 20;
/** The registry's largest page of keys. */
const KEYS_MAX_PAGE = 100;

const asFailure = (failure: unknown) =>
  failure instanceof ApiFailure ? failure : new ApiFailure(0, String(failure));

/** Manage your own instance: sign in with its id and password (kept in this tab's session storage only). */
export function Owner() {
  const [session, setSession] = useState<OwnerSession | null>(() => ownerSession.get());
  const [deleted, setDeleted] = useState<string | null>(null);
  const signIn = (next: OwnerSession | null) => {
    ownerSession.set(next);
    setSession(next);
  };
  if (deleted)
    return (
      <section>
        <h1>Deleted</h1>
        <p>
          Instance <code>{deleted}</code> is gone: its chat URL answers 404 and its host was disconnected.
        </p>
        <p>
          <a href="#/">Back to the directory</a>
        </p>
      </section>
    );
  if (!session) return <SignIn onSignedIn={signIn} />;
  return (
    <Manage
      session={session}
      onSignOut={() => signIn(null)}
      onRotated={(password) => signIn({ ...session, password })}
      onDeleted={() => {
        signIn(null);
        setDeleted(session.instanceId);
      }}
    />
  );
}

function SignIn({ onSignedIn }: { onSignedIn: (session: OwnerSession) => void }) {
  const [instanceId, setInstanceId] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<ApiFailure | null>(null);
  const submit = async () => {
    setError(null);
    const id = instanceId.trim();
    try {
      await api<InstanceDetail>(`/api/upload/${encodeURIComponent(id)}`, {
        authorization: ownerAuth(id, password),
      });
      onSignedIn({ instanceId: id, password });
    } catch (failure) {
      setError(asFailure(failure));
    }
  };
  return (
    <section aria-labelledby="owner-title">
      <h1 id="owner-title">Manage your instance</h1>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label>
          Instance id
          <input
            required
            autoComplete="username"
            value={instanceId}
            onInput={(e) => setInstanceId(e.currentTarget.value)}
          />
        </label>
        <label>
          Password
          <input
            required
            type="password"
            autoComplete="current-password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        <ErrorNote error={error} />
        <div class="actions">
          <button type="submit">Sign in</button>
        </div>
        <p class="muted">
          The password stays in this tab only (session storage) and is sent only to this registry.
        </p>
      </form>
    </section>
  );
}

interface ManageProps {
  session: OwnerSession;
  onSignOut: () => void;
  onRotated: (password: string) => void;
  onDeleted: () => void;
}

function Manage({ session, onSignOut, onRotated, onDeleted }: ManageProps) {
  const auth = ownerAuth(session.instanceId, session.password);
  const path = `/api/upload/${encodeURIComponent(session.instanceId)}`;
  const [detail, setDetail] = useState<InstanceDetail | null>(null);
  const [description, setDescription] = useState('');
  const [notice, setNotice] = useState('');
  const [error, setError] = useState<ApiFailure | null>(null);
  const [newPassword, setNewPassword] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [keysShown, setKeysShown] = useState(KEYS_STEP);
  // The first `keysShown` keys, newest first, in as few pages as the registry allows.
  const keys = usePoll(
    async () => {
      const size = Math.min(keysShown, KEYS_MAX_PAGE);
      const pages = await Promise.all(
        Array.from({ length: Math.ceil(keysShown / size) }, (_, i) =>
          api<KeyPage>(`${path}/keys?page_no=${i + 1}&page_size=${size}`, { authorization: auth }),
        ),
      );
      return {
        items: pages.flatMap((page) => page.items).slice(0, keysShown),
        total: pages[0].pagination.total,
      };
    },
    KEYS_POLL_MS,
    [path, auth, keysShown],
  );

  const load = async () => {
    try {
      const loaded = await api<InstanceDetail>(path, { authorization: auth });
      setDetail(loaded);
      setDescription(loaded.description);
    } catch (failure) {
      setError(asFailure(failure));
    }
  };
  useEffect(() => void load(), [auth]);

  const run = async (action: () => Promise<void>) => {
    setError(null);
    setNotice('');
    try {
      await action();
    } catch (failure) {
      setError(asFailure(failure));
    }
  };
  const save = () =>
    run(async () => {
      await api(path, { method: 'PUT', body: { description }, authorization: auth });
      setNotice('Description saved.');
      await load();
    });
  // Re-registering with the current credentials issues a new password; the old one stops working at once.
  const rotate = () =>
    run(async () => {
      if (!detail) return;
      const registered = await api<Registered>('/api/upload/register', {
        method: 'POST',
        authorization: auth,
        body: {
          instance_id: session.instanceId,
          upload_name: detail.upload_name,
          description: detail.description,
          email: detail.email,
          config: detail.config ?? {},
        },
      });
      setNewPassword(registered.instance_password);
      onRotated(registered.instance_password);
    });
  const remove = () =>
    run(async () => {
      await api(path, { method: 'DELETE', authorization: auth });
      onDeleted();
    });

  return (
    <section aria-labelledby="owner-title">
      <div class="page-head">
        <h1 id="owner-title">{detail?.upload_name ?? session.instanceId}</h1>
        {detail ? <StatusBadge status={detail.status} modelReachable={detail.model_reachable} /> : null}
      </div>
      <p>
        <code>{session.instanceId}</code> · <a href={instanceHref(session.instanceId)}>public page</a> ·{' '}
        <button type="button" class="link" onClick={onSignOut}>
          Sign out
        </button>
      </p>
      {detail ? (
        <p class="muted">
          {detail.is_connected ? 'A host is connected.' : 'No host connected.'}
          {detail.last_heartbeat
            ? ` Last heartbeat ${new Date(detail.last_heartbeat).toLocaleString()}.`
            : ''}
        </p>
      ) : null}
      {detail?.replicas?.length ? <ReplicaList replicas={detail.replicas} /> : null}
      <ErrorNote error={error} />
      {notice ? (
        <p class="notice" role="status">
          {notice}
        </p>
      ) : null}
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <label>
          Description
          <textarea
            rows={3}
            maxLength={2000}
            disabled={!detail}
            value={description}
            onInput={(e) => setDescription(e.currentTarget.value)}
          />
        </label>
        <div class="actions">
          <button type="submit" disabled={!detail}>
            Save description
          </button>
        </div>
      </form>
      <h2>Password</h2>
      <p class="muted">Rotating issues a new password and disconnects agents that use the old one.</p>
      <div class="actions">
        <button type="button" class="secondary" disabled={!detail} onClick={() => void rotate()}>
          Rotate password
        </button>
      </div>
      {newPassword ? <NewPassword instanceId={session.instanceId} password={newPassword} /> : null}
      {detail ? <OwnerAccess path={path} auth={auth} detail={detail} onSaved={() => void load()} /> : null}
      <ErrorNote error={keys.error} prefix="Keys could not be loaded" />
      <OwnerKeys
        instanceId={session.instanceId}
        path={path}
        auth={auth}
        keys={keys.data?.items ?? []}
        total={keys.data?.total ?? 0}
        onMore={() => setKeysShown((shown) => shown + KEYS_STEP)}
        onChanged={keys.refresh}
        policy={detail?.policy ?? null}
        announced={detail?.models ?? []}
      />
      <OwnerUsage path={path} auth={auth} keys={keys.data?.items ?? []} />
      <OwnerRequests path={path} auth={auth} instanceId={session.instanceId} keys={keys.data?.items ?? []} />
      <h2>Delete</h2>
      {confirmDelete ? (
        <div class="actions">
          <button type="button" class="danger" onClick={() => void remove()}>
            Yes, delete it
          </button>
          <button type="button" class="secondary" onClick={() => setConfirmDelete(false)}>
            Keep it
          </button>
        </div>
      ) : (
        <div class="actions">
          <button type="button" class="danger" onClick={() => setConfirmDelete(true)}>
            Delete instance
          </button>
        </div>
      )}
    </section>
  );
}
