import { useState } from 'preact/hooks';
import { api, InstanceList, InstanceStatus } from '../api';
import { ErrorNote } from '../components/error-note';
import { StatusBadge } from '../components/status-badge';
import { usePoll } from '../components/use-poll';
import { instanceHref } from '../route';

/** Status changes show within 2 s: a 1 s poll of the public list (see docs/console.md for why not SSE). */
const POLL_MS = 1_000;
const PAGE_SIZE = 100;
const FILTERS: Array<{ value: '' | InstanceStatus; label: string }> = [
  { value: '', label: 'Any status' },
  { value: 'online', label: 'Online' },
  { value: 'offline', label: 'Offline' },
  { value: 'registered', label: 'Never connected' },
];

export function Directory() {
  const [query, setQuery] = useState('');
  const [status, setStatus] = useState<'' | InstanceStatus>('');
  const list = usePoll(
    () =>
      api<InstanceList>(
        `/api/upload/list?page_no=1&page_size=${PAGE_SIZE}${status ? `&status=${status}` : ''}`,
      ),
    POLL_MS,
    [status],
  );
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const items = (list.data?.items ?? []).filter((item) => {
    const haystack = [item.upload_name, item.description, item.instance_id, ...item.models]
      .join(' ')
      .toLowerCase();
    return words.every((word) => haystack.includes(word));
  });
  const total = list.data?.pagination.total ?? 0;
  return (
    <section aria-labelledby="directory-title">
      <div class="page-head">
        <h1 id="directory-title">Instances</h1>
        <a class="button" href="#/register">
          Register an instance
        </a>
      </div>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search
          <input
            type="search"
            value={query}
            placeholder="name, description, model"
            onInput={(e) => setQuery(e.currentTarget.value)}
          />
        </label>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value as '' | InstanceStatus)}>
            {FILTERS.map((f) => (
              <option value={f.value}>{f.label}</option>
            ))}
          </select>
        </label>
      </form>
      <ErrorNote error={list.error} prefix="The list could not be refreshed" />
      {list.data === null && !list.error ? <p class="muted">Loading…</p> : null}
      {list.data !== null && items.length === 0 ? (
        <p class="muted">
          {total === 0 && !query ? 'No instances yet. ' : 'Nothing matches. '}
          <a href="#/register">Register one</a>.
        </p>
      ) : null}
      <ul class="cards" aria-live="polite">
        {items.map((item) => (
          <li class="card" key={item.instance_id} data-instance={item.instance_id}>
            <div class="card-head">
              <h2>
                <a href={instanceHref(item.instance_id)}>{item.upload_name}</a>
              </h2>
              <StatusBadge status={item.status} modelReachable={item.model_reachable} />
            </div>
            {item.description ? <p class="description">{item.description}</p> : null}
            <p class="meta">
              <code>{item.instance_id}</code>
              {item.models.length > 0 ? <span> · {item.models.join(', ')}</span> : null}
            </p>
          </li>
        ))}
      </ul>
      {total > PAGE_SIZE ? (
        <p class="muted">
          Showing the first {PAGE_SIZE} of {total}; narrow the status to see others.
        </p>
      ) : null}
    </section>
  );
}
