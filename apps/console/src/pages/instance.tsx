import { useState } from 'preact/hooks';
import { api, InstanceCard } from '../api';
import { CopyBlock, CopyButton } from '../components/copy-block';
import { ErrorNote } from '../components/error-note';
import { StatusBadge } from '../components/status-badge';
import { usePoll } from '../components/use-poll';
import {
  agentCommand,
  chatUrl,
  Endpoint,
  ENDPOINTS,
  KEY_PLACEHOLDER,
  MODEL_PLACEHOLDER,
  servedEndpoints,
} from '../snippets';
import { EndpointSnippets } from './endpoint-snippets';
import { Playground } from './playground';

const POLL_MS = 1_000;

export function InstancePage({ instanceId }: { instanceId: string }) {
  const card = usePoll(
    () => api<InstanceCard>(`/api/console/instances/${encodeURIComponent(instanceId)}`),
    POLL_MS,
    [instanceId],
  );
  // The model chosen in the playground, from /models: what the owner's policy and the key allow.
  const [chosen, setChosen] = useState('');
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
  // Without a key a private instance names no model: a placeholder, not a guess the registry would refuse.
  const model = chosen || (isPrivate ? MODEL_PLACEHOLDER : (shown?.models[0] ?? instanceId));
  const apiKey = isPrivate ? KEY_PLACEHOLDER : undefined;
  const url = chatUrl(origin, instanceId);
  // A private card names nothing its host serves: its key holder is shown every endpoint.
  const offered: Endpoint[] = isPrivate ? [...ENDPOINTS] : servedEndpoints(shown?.endpoints ?? []);
  return (
    <section aria-labelledby="instance-title">
      <p class="crumbs">
        <a href="#/">Instances</a> /
      </p>
      <div class="page-head">
        <h1 id="instance-title">{shown?.upload_name ?? instanceId}</h1>
        {instance ? <StatusBadge status={instance.status} modelReachable={instance.model_reachable} /> : null}
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
        <dd class="copy-inline">
          <code data-testid="chat-url">{url}</code>
          <CopyButton text={url} label="chat URL" />
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
        onModel={setChosen}
        // A private card names nothing its host serves: the key holder may try, and a host without
        // embeddings answers 501 in the tab.
        embeddings={isPrivate || (shown?.endpoints ?? []).includes('embeddings')}
      />
      <h2>Use it from your code</h2>
      {isPrivate ? (
        <p class="muted">
          Put your key in place of <code>{KEY_PLACEHOLDER}</code>.
          {chosen ? '' : ` Give your key to the playground and the snippets name a model it may use.`} The
          page cannot see which endpoints its host serves, so it lists them all; one it does not serve answers
          501.
        </p>
      ) : null}
      <EndpointSnippets
        endpoints={offered}
        origin={origin}
        instanceId={instanceId}
        model={model}
        apiKey={apiKey}
      />
      <div class="snippets">
        <CopyBlock
          label="Host agent (owner, on the model's machine; Node.js 20+)"
          text={agentCommand(origin, instanceId)}
        />
      </div>
    </section>
  );
}
