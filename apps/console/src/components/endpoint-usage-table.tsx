import type { UsageReport } from '../api';
import { endpointRows, refusedBreakdown, refusedTotal } from '../usage-periods';

/** The window's totals per endpoint (chat, embeddings, …): which API the figures above come from. */
export function EndpointUsageTable({ byEndpoint }: { byEndpoint: UsageReport['by_endpoint'] }) {
  const rows = endpointRows(byEndpoint);
  if (rows.length === 0) return null;
  return (
    <div class="table-wrap">
      <table data-testid="endpoint-usage-table">
        <caption class="muted">Per endpoint, over the window</caption>
        <thead>
          <tr>
            <th scope="col">Endpoint</th>
            <th scope="col">Requests</th>
            <th scope="col">Errors</th>
            <th scope="col">Refused</th>
            <th scope="col">Prompt tokens</th>
            <th scope="col">Completion tokens</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ endpoint, label, usage }) => (
            <tr data-endpoint={endpoint}>
              <th scope="row">{label}</th>
              <td>{usage.requests}</td>
              <td>{usage.errors}</td>
              <td>
                {refusedTotal(usage)}
                {refusedTotal(usage) ? <span class="muted"> ({refusedBreakdown(usage.refused)})</span> : null}
              </td>
              <td>{usage.prompt_tokens}</td>
              <td>{usage.completion_tokens}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
