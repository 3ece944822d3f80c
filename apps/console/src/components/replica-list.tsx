import type { ReplicaInfo } from '../api';

/** A replica's model as its agent last found it; the agent's words say why (the owner's eyes only). */
function ModelCell({ replica }: { replica: ReplicaInfo }) {
  const status = replica.model_status;
  if (status === null) return <span class="muted">not reported</span>;
  if (status === 'ok') return <span data-model-status="ok">ok</span>;
  return (
    <span data-model-status={status}>
      <strong class="model-down">{status}</strong>
      {replica.model_detail ? (
        <>
          {' '}
          · <code>{replica.model_detail}</code>
        </>
      ) : null}
    </span>
  );
}

/** The agents serving an instance (its replicas), as the owner's detail lists them. */
export function ReplicaList({ replicas }: { replicas: ReplicaInfo[] }) {
  if (replicas.length === 0) return null;
  return (
    <>
      <h2>Connected agents</h2>
      <div class="table-wrap replicas">
        <table class="stacked" data-testid="replicas-table" aria-label="Replicas">
          <thead>
            <tr>
              <th>Replica</th>
              <th>Node</th>
              <th>Connected since</th>
              <th>Capacity</th>
              <th>In flight</th>
              <th>Model</th>
            </tr>
          </thead>
          <tbody>
            {replicas.map((r) => (
              <tr key={`${r.node_id}/${r.name}`}>
                <td data-label="Replica">
                  {r.name === '' ? <em>unnamed (stock host)</em> : <code>{r.name}</code>}
                  {r.draining ? ' · moving' : ''}
                </td>
                <td data-label="Node">
                  <code>{r.node_id}</code>
                </td>
                <td data-label="Connected since">{new Date(r.connected_at).toLocaleString()}</td>
                <td data-label="Capacity">{r.capacity}</td>
                <td data-label="In flight">{r.in_flight}</td>
                <td data-label="Model">
                  <ModelCell replica={r} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
