import { api, InstanceCard } from '../api';
import { CopyBlock } from '../components/copy-block';
import { ErrorNote } from '../components/error-note';
import { StatusBadge } from '../components/status-badge';
import { usePoll } from '../components/use-poll';
import {
  agentCommand,
  chatUrl,
  curlSnippet,
  javascriptSnippet,
  KEY_PLACEHOLDER,
  pythonSnippet,
} from '../snippets';
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
  const isPrivate = instance?.visibility === 'private';
  // A private card hides name, description and models: only the key holder learns them (from /models).
  const shown = instance && instance.visibility !== 'private' ? instance : null;
  const origin = location.origin;
  const model = shown?.models[0] ?? instanceId;
  const apiKey = isPrivate ? KEY_PLACEHOLDER : undefined;
  return (
    <section aria-labelledby="instance-title">
      <p class="crumbs">
        <a href="#/">Instances</a> /
      </p>
      <div class="page-head">
        <h1 id="instance-title">{shown?.upload_name ?? instanceId}</h1>
        {instance ? <StatusBadge status={instance.status} /> : null}
      </div>
      <ErrorNote error={card.error} prefix="Status could not be refreshed" />
      {isPrivate ? (
        <p class="private-note" data-testid="private-note">
          <strong>Private instance.</strong> Chats need an access key from its owner, sent as{' '}
          <code>Authorization: Bearer sk-…</code> (the OpenAI SDKs' <code>apiKey</code>).
        </p>
      ) : null}
      {shown?.description ? <p class="description">{shown.description}</p> : null}
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
        <dd>
          {shown?.models.length
            ? shown.models.join(', ')
            : isPrivate
              ? 'listed for key holders (the playground shows them once a key is given)'
              : 'announced when a host connects'}
        </dd>
      </dl>
      <Playground
        instanceId={instanceId}
        online={instance?.status === 'online'}
        isPrivate={isPrivate}
        expected={shown?.models ?? []}
      />
      <h2>Use it from your code</h2>
      <div class="snippets">
        <CopyBlock label="curl" text={curlSnippet(origin, instanceId, model, apiKey)} />
        <CopyBlock label="OpenAI Python" text={pythonSnippet(origin, instanceId, model, apiKey)} />
        <CopyBlock label="OpenAI JavaScript" text={javascriptSnippet(origin, instanceId, model, apiKey)} />
        <CopyBlock
          label="Host agent (owner, on the model's machine; Node.js 20+)"
          text={agentCommand(origin, instanceId)}
        />
      </div>
    </section>
  );
}
