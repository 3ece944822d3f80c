import { api, InstanceCard } from '../api';
import { CopyBlock } from '../components/copy-block';
import { ErrorNote } from '../components/error-note';
import { StatusBadge } from '../components/status-badge';
import { usePoll } from '../components/use-poll';
import { agentCommand, chatUrl, curlSnippet, javascriptSnippet, pythonSnippet } from '../snippets';
import { Playground } from './playground';

const POLL_MS = 1_000;

export function InstancePage({ instanceId }: { instanceId: string }) {
  const card = usePoll(
    () => api<InstanceCard>(`/api/console/instances/${encodeURIComponent(instanceId)}`),
    POLL_MS,
    [instanceId],
  );
  if (card.error?.status === 404)
    return (
      <section>
        <h1>Instance not found</h1>
        <ErrorNote error={card.error} />
        <p>
          <a href="#/">Back to the directory</a>
        </p>
      </section>
    );
  const instance = card.data;
  const origin = location.origin;
  const model = instance?.models[0] ?? instanceId;
  return (
    <section aria-labelledby="instance-title">
      <p class="crumbs">
        <a href="#/">Instances</a> /
      </p>
      <div class="page-head">
        <h1 id="instance-title">{instance?.upload_name ?? instanceId}</h1>
        {instance ? <StatusBadge status={instance.status} /> : null}
      </div>
      <ErrorNote error={card.error} prefix="Status could not be refreshed" />
      {instance?.description ? <p class="description">{instance.description}</p> : null}
      <dl class="facts">
        <dt>Instance id</dt>
        <dd>
          <code>{instanceId}</code>
        </dd>
        <dt>Chat URL (OpenAI base URL)</dt>
        <dd>
          <code>{chatUrl(origin, instanceId)}</code>
        </dd>
        <dt>Models</dt>
        <dd>{instance?.models.length ? instance.models.join(', ') : 'announced when a host connects'}</dd>
      </dl>
      <Playground
        instanceId={instanceId}
        online={instance?.status === 'online'}
        expected={instance?.models ?? []}
      />
      <h2>Use it from your code</h2>
      <div class="snippets">
        <CopyBlock label="curl" text={curlSnippet(origin, instanceId, model)} />
        <CopyBlock label="OpenAI Python" text={pythonSnippet(origin, instanceId, model)} />
        <CopyBlock label="OpenAI JavaScript" text={javascriptSnippet(origin, instanceId, model)} />
        <CopyBlock label="Host agent (owner, next to the model)" text={agentCommand(origin, instanceId)} />
      </div>
    </section>
  );
}
