import { useRef, useState } from 'preact/hooks';
import type { InspectedRequest, RequestFilter, RequestList } from '@app/contracts';
import { AccessKey, api } from '../api';
import { ErrorNote } from '../components/error-note';
import { usePoll } from '../components/use-poll';
import { OwnerCapture } from './owner-capture';
import { RequestBody } from './request-body';
import { mergeRows, ms, nextSince, outcomeLabel } from '../request-rows';

/** New requests show within this plus one round trip (the issue asks for 2 s). */
const POLL_MS = 1_000;

const FILTERS: Array<[RequestFilter | '', string]> = [
  ['', 'All'],
  ['2xx', '2xx'],
  ['4xx', '4xx'],
  ['5xx', '5xx'],
  ['refused', 'Refused by the registry'],
  ['failed', 'Failed'],
  ['left', 'Caller left'],
];

/** The path's last part: "chat/completions" or "chat" (the instance id is this page's). */
const endpointLabel = (row: InspectedRequest) =>
  row.endpoint.endsWith('/chat/completions') ? 'chat/completions' : 'chat';

/** The owner's request inspector: the instance's recent requests on every node, newest first, updated every second. */
export function OwnerRequests(props: { path: string; auth: string; instanceId: string; keys: AccessKey[] }) {
  const { path, auth, instanceId, keys } = props;
  const [opened, setOpened] = useState<string | null>(null);
  const [status, setStatus] = useState<RequestFilter | ''>('');
  const [keyId, setKeyId] = useState('');
  // What has been shown for the current filters (a change of filter starts over).
  const shown = useRef<{ filter: string; rows: InspectedRequest[] }>({ filter: '', rows: [] });
  const requests = usePoll(
    async () => {
      const filter = `${path} ${status} ${keyId}`;
      if (shown.current.filter !== filter) shown.current = { filter, rows: [] };
      const query = new URLSearchParams();
      if (status) query.set('status', status);
      if (keyId) query.set('key_id', keyId);
      const since = nextSince(shown.current.rows);
      if (since) query.set('since', since);
      const list = await api<RequestList>(`${path}/requests?${query.toString()}`, { authorization: auth });
      if (shown.current.filter === filter) shown.current.rows = mergeRows(shown.current.rows, list.items);
      return { rows: shown.current.rows, skipped: list.nodes.skipped };
    },
    POLL_MS,
    [path, auth, status, keyId],
  );
  const rows = requests.data?.rows ?? [];
  return (
    <section aria-labelledby="requests-title">
      <h2 id="requests-title">Recent requests</h2>
      <p class="muted">
        The last 200 requests per registry node, for an hour, kept in the nodes’ memory only. Addresses are
        cut to their network (/24, /48). Refreshes every second.
      </p>
      <OwnerCapture path={path} auth={auth} />
      <div class="row">
        <label>
          Show requests
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value as RequestFilter | '')}>
            {FILTERS.map(([value, label]) => (
              <option value={value}>{label}</option>
            ))}
          </select>
        </label>
        <label>
          Made with key
          <select value={keyId} onChange={(e) => setKeyId(e.currentTarget.value)}>
            <option value="">All calls</option>
            {keys.map((key) => (
              <option value={key.key_id}>
                {key.name} ({key.prefix})
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorNote error={requests.error} prefix="Requests could not be loaded" />
      {requests.data?.skipped.length ? (
        <p class="notice" role="status">
          {requests.data.skipped.length} registry node(s) did not answer in time: their requests are missing.
        </p>
      ) : null}
      {requests.data && rows.length === 0 ? <p class="muted">No requests yet.</p> : null}
      {rows.length > 0 ? (
        <div class="table-wrap">
          <table class="stacked" data-testid="requests-table">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Status</th>
                <th scope="col">Endpoint, model</th>
                <th scope="col">Key</th>
                <th scope="col">TTFT</th>
                <th scope="col">Duration</th>
                <th scope="col">Tokens in/out</th>
                <th scope="col">Served by</th>
                <th scope="col">Caller (network)</th>
                <th scope="col">Request id</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr data-testid="request-row" data-outcome={row.outcome} class={`request-${row.outcome}`}>
                  <th scope="row" data-label="Time">
                    {new Date(row.at).toLocaleTimeString()}
                  </th>
                  <td data-label="Status" data-testid="request-status">
                    <strong>{row.status}</strong> {outcomeLabel(row)}
                    {row.code ? <span class="sub">{row.code}</span> : null}
                  </td>
                  <td data-label="Endpoint">
                    {endpointLabel(row)}
                    <span class="sub">{row.model ?? 'no model named'}</span>
                  </td>
                  <td data-label="Key">{row.key_name ?? (row.key_id ? 'deleted key' : '—')}</td>
                  <td data-label="TTFT" data-testid="request-ttft">
                    {ms(row.ttft_ms)}
                  </td>
                  <td data-label="Duration">{ms(row.duration_ms)}</td>
                  <td data-label="Tokens in/out">
                    {row.tokens_in} / {row.tokens_out}
                  </td>
                  <td data-label="Served by">
                    {row.served_by_node
                      ? `${row.served_by_node}${row.replica ? ` · ${row.replica}` : ''}`
                      : '—'}
                  </td>
                  <td data-label="Caller">{row.caller}</td>
                  <td data-label="Request id">
                    <code>{row.request_id ?? '—'}</code>
                    {row.captured ? (
                      <button
                        type="button"
                        class="small"
                        aria-expanded={opened === row.id}
                        onClick={() => setOpened(opened === row.id ? null : row.id)}
                      >
                        {opened === row.id ? 'Hide body' : 'Body'}
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {opened ? <RequestBody path={path} auth={auth} instanceId={instanceId} id={opened} /> : null}
    </section>
  );
}
