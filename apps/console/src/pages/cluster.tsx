import { useState } from 'preact/hooks';
import { ApiFailure, failureOf } from '../api';
import { ErrorNote } from '../components/error-note';
import { usePoll } from '../components/use-poll';
import { adminToken } from '../session';

interface NodeStats {
  node_id: string;
  draining: boolean;
  connected_hosts: number;
  chats_in_flight: number;
  chats_per_second: number;
  ttft_p50_ms: number | null;
  ttft_p99_ms: number | null;
}

interface ClusterView {
  node_id: string;
  nodes: NodeStats[];
  totals: { nodes: number; connected_hosts: number; chats_in_flight: number; chats_per_second: number };
  online_instances: number;
  problem: string | null;
}

const POLL_MS = 2_000;
const ms = (value: number | null) => (value === null ? '—' : `${value} ms`);

async function loadCluster(token: string): Promise<ClusterView> {
  let response: Response;
  try {
    response = await fetch('/api/admin/cluster', {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
  } catch {
    throw new ApiFailure(0, 'the registry cannot be reached (network error)');
  }
  if (!response.ok) throw await failureOf(response);
  return (await response.json()) as ClusterView;
}

/** For operators: every live node's own counters (rates over 10 s, time to first token over 60 s). */
export function Cluster() {
  const [token, setToken] = useState(() => adminToken.get());
  const [draft, setDraft] = useState(token);
  const view = usePoll(() => loadCluster(token), POLL_MS, [token]);
  const needsToken = view.error?.status === 401;
  const data = needsToken ? null : view.data;
  return (
    <section aria-labelledby="cluster-title">
      <h1 id="cluster-title">Cluster</h1>
      {needsToken ? (
        <form
          class="stack"
          onSubmit={(e) => {
            e.preventDefault();
            adminToken.set(draft);
            setToken(draft);
          }}
        >
          <ErrorNote error={view.error} />
          <label>
            Admin token (ADMIN_TOKEN; kept in this tab only)
            <input
              type="password"
              autoComplete="off"
              value={draft}
              onInput={(e) => setDraft(e.currentTarget.value)}
            />
          </label>
          <div class="actions">
            <button type="submit">Show the cluster</button>
          </div>
        </form>
      ) : (
        <ErrorNote error={view.error} prefix="Could not refresh" />
      )}
      {data ? (
        <>
          <ul class="totals">
            <li>
              <strong>{data.totals.nodes}</strong> nodes
            </li>
            <li>
              <strong>{data.online_instances}</strong> instances online
            </li>
            <li>
              <strong>{data.totals.connected_hosts}</strong> hosts connected
            </li>
            <li>
              <strong>{data.totals.chats_in_flight}</strong> chats in flight
            </li>
            <li>
              <strong>{data.totals.chats_per_second}</strong> chats/s
            </li>
          </ul>
          {data.problem ? <p class="error">{data.problem}</p> : null}
          <p class="muted">This page is served by {data.node_id}.</p>
          <div class="table-wrap">
            <table aria-label="Nodes">
              <thead>
                <tr>
                  <th scope="col">Node</th>
                  <th scope="col">Hosts</th>
                  <th scope="col">In flight</th>
                  <th scope="col">Chats/s</th>
                  <th scope="col">TTFT p50</th>
                  <th scope="col">TTFT p99</th>
                </tr>
              </thead>
              <tbody>
                {data.nodes.map((node) => (
                  <tr key={node.node_id} data-node={node.node_id}>
                    <th scope="row">
                      {node.node_id}
                      {node.draining ? <span class="badge badge-offline">draining</span> : null}
                    </th>
                    <td>{node.connected_hosts}</td>
                    <td>{node.chats_in_flight}</td>
                    <td>{node.chats_per_second}</td>
                    <td>{ms(node.ttft_p50_ms)}</td>
                    <td>{ms(node.ttft_p99_ms)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </section>
  );
}
