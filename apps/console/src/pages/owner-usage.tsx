import { useState } from 'preact/hooks';
import { AccessKey, api, Granularity, UsageReport } from '../api';
import { EndpointUsageTable } from '../components/endpoint-usage-table';
import { ErrorNote } from '../components/error-note';
import { UsageChart } from '../components/usage-chart';
import { usePoll } from '../components/use-poll';
import { fillPeriods, periodLabel, refusedBreakdown, refusedTotal, usageWindow } from '../usage-periods';

/** Usage is written in batches every few seconds: refreshing faster would show nothing new. */
const POLL_MS = 5_000;

/** The owner's usage: tokens and requests over time, for the instance or one key, as a chart and a table. */
export function OwnerUsage({ path, auth, keys }: { path: string; auth: string; keys: AccessKey[] }) {
  const [granularity, setGranularity] = useState<Granularity>('minute');
  const [keyId, setKeyId] = useState('');
  const usage = usePoll(
    async () => {
      const { from, to } = usageWindow(granularity, Date.now());
      const query = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), granularity });
      if (keyId) query.set('key_id', keyId);
      const report = await api<UsageReport>(`${path}/usage?${query.toString()}`, { authorization: auth });
      const name = keys.find((key) => key.key_id === keyId)?.name;
      // What was asked travels with the answer: while a new choice loads, the old figures keep their own labels.
      return {
        granularity,
        subject: name ? `key ${name}` : 'all calls',
        rows: report.items,
        byEndpoint: report.by_endpoint,
        periods: fillPeriods(report.items, granularity, from, to),
      };
    },
    POLL_MS,
    [path, auth, granularity, keyId],
  );
  return (
    <section aria-labelledby="usage-title">
      <h2 id="usage-title">Usage</h2>
      <div class="row">
        <label>
          Per
          <select value={granularity} onChange={(e) => setGranularity(e.currentTarget.value as Granularity)}>
            <option value="minute">minute (last hour)</option>
            <option value="hour">hour (last day)</option>
            <option value="day">day (last 30 days)</option>
          </select>
        </label>
        <label>
          Key
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
      <ErrorNote error={usage.error} prefix="Usage could not be loaded" />
      {usage.data ? (
        <>
          <UsageChart
            periods={usage.data.periods}
            granularity={usage.data.granularity}
            subject={usage.data.subject}
          />
          <EndpointUsageTable byEndpoint={usage.data.byEndpoint} />
          {usage.data.rows.length === 0 ? (
            <p class="muted">No calls in this window yet (usage is written every few seconds).</p>
          ) : (
            <div class="table-wrap">
              <table data-testid="usage-table">
                <caption class="muted">Periods with calls</caption>
                <thead>
                  <tr>
                    <th scope="col">Period</th>
                    <th scope="col">Requests</th>
                    <th scope="col">Errors</th>
                    <th scope="col">Refused</th>
                    <th scope="col">Prompt tokens</th>
                    <th scope="col">Completion tokens</th>
                  </tr>
                </thead>
                <tbody>
                  {usage.data.rows.map((row) => (
                    <tr>
                      <th scope="row">{periodLabel(row.start, usage.data!.granularity)}</th>
                      <td>{row.requests}</td>
                      <td>{row.errors}</td>
                      <td data-testid="refused">
                        {refusedTotal(row)}
                        {refusedTotal(row) ? (
                          <span class="muted"> ({refusedBreakdown(row.refused)})</span>
                        ) : null}
                      </td>
                      <td>{row.prompt_tokens}</td>
                      <td>{row.completion_tokens}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <p class="muted">
            Requests reached your host; errors are those that did not complete. Refused calls were turned away
            before: 401 no or a bad key (a revoked key counts under its name), 403 a model not allowed, 422
            invalid parameters, 429 over a limit, 503 no host connected.
          </p>
        </>
      ) : null}
    </section>
  );
}
