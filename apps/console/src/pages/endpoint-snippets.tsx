import { useState } from 'preact/hooks';
import { CopyBlock } from '../components/copy-block';
import { Endpoint, ENDPOINT_LABELS, endpointSnippets } from '../snippets';

interface Props {
  /** What the instance serves, in the page's order (chat first unless its owner denies it); one tab each. */
  endpoints: Endpoint[];
  origin: string;
  instanceId: string;
  model: string;
  apiKey?: string;
}

/** The instance's copy-ready calls, one tab per endpoint it serves (the first is the default: chat unless denied). */
export function EndpointSnippets({ endpoints, origin, instanceId, model, apiKey }: Props) {
  const [picked, setPicked] = useState<Endpoint>('chat');
  // A host that reconnects without the picked endpoint takes its tab away: back to the first.
  const shown = endpoints.includes(picked) ? picked : (endpoints[0] ?? 'chat');
  const panelId = 'endpoint-snippets-panel';
  return (
    <>
      {endpoints.length > 1 ? (
        <div class="tabs" role="tablist" aria-label="Endpoint">
          {endpoints.map((endpoint) => (
            <button
              type="button"
              role="tab"
              id={`endpoint-tab-${endpoint}`}
              aria-selected={endpoint === shown}
              aria-controls={panelId}
              onClick={() => setPicked(endpoint)}
            >
              {ENDPOINT_LABELS[endpoint]}
            </button>
          ))}
        </div>
      ) : null}
      <div
        class="snippets"
        id={panelId}
        role={endpoints.length > 1 ? 'tabpanel' : undefined}
        aria-labelledby={endpoints.length > 1 ? `endpoint-tab-${shown}` : undefined}
      >
        {endpointSnippets(shown, origin, instanceId, model, apiKey).map((snippet) => (
          <CopyBlock key={snippet.testId} label={snippet.label} text={snippet.text} testId={snippet.testId} />
        ))}
      </div>
    </>
  );
}
