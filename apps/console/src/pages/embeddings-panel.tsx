import { useState } from 'preact/hooks';
import { ApiFailure } from '../api';
import { ErrorNote } from '../components/error-note';
import { embed, EmbeddingResult } from '../embeddings';

interface EmbeddingsPanelProps {
  /** The instance's URL (`/api/chat/<id>`). */
  url: string;
  model: string;
  apiKey: string;
  /** Called before each request: the page keeps the key the owner typed. */
  onSend: () => void;
}

/** The playground's Embeddings tab: one input, its vector's size and first values, tokens and time. */
export function EmbeddingsPanel({ url, model, apiKey, onSend }: EmbeddingsPanelProps) {
  const [input, setInput] = useState('');
  const [result, setResult] = useState<EmbeddingResult | null>(null);
  const [error, setError] = useState<ApiFailure | null>(null);
  const [running, setRunning] = useState(false);

  const send = async () => {
    const text = input.trim();
    if (!text || running) return;
    onSend();
    setRunning(true);
    setError(null);
    setResult(null);
    try {
      setResult(await embed(url, model, text, apiKey));
    } catch (failure) {
      setError(
        failure instanceof ApiFailure ? failure : new ApiFailure(0, `unexpected answer: ${String(failure)}`),
      );
    } finally {
      setRunning(false);
    }
  };

  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <label>
        Text to embed
        <textarea
          rows={3}
          value={input}
          placeholder="A sentence or a passage (Ctrl+Enter sends)"
          onInput={(e) => setInput(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              void send();
            }
          }}
        />
      </label>
      <div class="actions">
        <button type="submit" disabled={running || !input.trim()}>
          Embed
        </button>
      </div>
      <ErrorNote error={error} />
      {result ? (
        <p class="stats" data-testid="embedding-result">
          {result.dimensions} dimensions · {result.promptTokens ?? '—'} tokens · {result.ms} ms
          <br />
          <code>
            [{result.head.join(', ')}
            {result.dimensions > result.head.length ? ', …' : ''}]
          </code>
        </p>
      ) : null}
    </form>
  );
}
