import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiFailure, failureOf } from '../api';
import { ChatResult, streamChat } from '../chat-stream';
import { ErrorNote } from '../components/error-note';
import { instanceKey } from '../session';

interface ModelList {
  data?: Array<{ id?: unknown }>;
}

/** Try an instance from the page: pick a model, stream an answer, stop it, see how fast it was. */
interface PlaygroundProps {
  instanceId: string;
  online: boolean;
  /** Chats need a key: the key field shows from the start. */
  isPrivate: boolean;
  /** The models the instance's public card names: /models should list them all. */
  expected: string[];
}

export function Playground({ instanceId, online, isPrivate, expected }: PlaygroundProps) {
  const base = `/api/chat/${encodeURIComponent(instanceId)}`;
  const [models, setModels] = useState<string[]>([]);
  const [model, setModel] = useState('');
  const [prompt, setPrompt] = useState('');
  const [temperature, setTemperature] = useState(0.7);
  const [maxTokens, setMaxTokens] = useState(512);
  // The draft is what the field shows; `key` is committed on change or send, so typing a key
  // letter by letter does not send (and count as failed authentications) one /models call per letter.
  const [keyDraft, setKeyDraft] = useState(() => instanceKey.get(instanceId));
  const [key, setKey] = useState(keyDraft);
  const commitKey = (value: string) => {
    setKey(value);
    instanceKey.set(instanceId, value);
  };
  const [needsKey, setNeedsKey] = useState(false);
  const [answer, setAnswer] = useState('');
  const [result, setResult] = useState<ChatResult | null>(null);
  const [error, setError] = useState<ApiFailure | null>(null);
  const [stopped, setStopped] = useState(false);
  const [running, setRunning] = useState(false);
  const controller = useRef<AbortController | null>(null);

  // The registry caches /models for a moment (CHAT_INSTANCE_CACHE_MS): until it lists every model
  // the instance's card names (a host just connected), ask again.
  const [attempt, setAttempt] = useState(0);
  const expectedKey = expected.join('\n');
  useEffect(() => {
    if (isPrivate && !key) {
      setModels([]); // without a key /models answers 401: nothing to list yet
      return;
    }
    const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
    let cancelled = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    void fetch(`${base}/models`, { headers })
      .then(async (response) => {
        if (!response.ok) throw await failureOf(response);
        return (await response.json()) as ModelList;
      })
      .then((list) => {
        if (cancelled) return;
        const ids = (list.data ?? []).map((m) => m.id).filter((id): id is string => typeof id === 'string');
        setModels(ids);
        setModel((current) => (ids.includes(current) ? current : (ids[0] ?? '')));
        if (expected.some((id) => !ids.includes(id)))
          retry = setTimeout(() => setAttempt((n) => n + 1), 1_000);
      })
      .catch((failure: unknown) => {
        if (
          !cancelled &&
          failure instanceof ApiFailure &&
          (failure.status === 401 || failure.status === 403)
        ) {
          setNeedsKey(true);
          setModels([]); // a revoked or wrong key must not leave the models it once listed
        }
      });
    return () => {
      cancelled = true;
      clearTimeout(retry);
    };
  }, [base, expectedKey, key, isPrivate, attempt]);

  useEffect(() => () => controller.current?.abort(), []);

  const send = async () => {
    if (!prompt.trim() || running) return;
    commitKey(keyDraft);
    const abort = new AbortController();
    controller.current = abort;
    setRunning(true);
    setAnswer('');
    setResult(null);
    setError(null);
    setStopped(false);
    try {
      const body: Record<string, unknown> = {
        messages: [{ role: 'user', content: prompt }],
        temperature,
        max_tokens: maxTokens,
      };
      if (model) body.model = model;
      setResult(
        await streamChat({ url: base, body, key: keyDraft, signal: abort.signal, onText: setAnswer }),
      );
    } catch (failure) {
      if (abort.signal.aborted) setStopped(true);
      else if (failure instanceof ApiFailure) {
        setError(failure);
        if (failure.status === 401 || failure.status === 403) setNeedsKey(true);
      } else setError(new ApiFailure(0, `unexpected answer: ${String(failure)}`));
    } finally {
      controller.current = null;
      setRunning(false);
    }
  };

  return (
    <section class="playground" aria-labelledby="playground-title">
      <h2 id="playground-title">Playground</h2>
      {!online ? (
        <p class="muted">No host is connected right now: a chat would be refused with 503.</p>
      ) : null}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        <div class="row">
          <label>
            Model
            <select
              value={model}
              onChange={(e) => setModel(e.currentTarget.value)}
              disabled={models.length === 0}
            >
              {models.length === 0 ? <option value="">(none announced)</option> : null}
              {models.map((id) => (
                <option value={id}>{id}</option>
              ))}
            </select>
          </label>
          <label>
            Temperature
            <input
              type="number"
              min={0}
              max={1}
              step={0.1}
              value={temperature}
              onInput={(e) => setTemperature(Number(e.currentTarget.value))}
            />
          </label>
          <label>
            Max tokens
            <input
              type="number"
              min={1}
              step={1}
              value={maxTokens}
              onInput={(e) => setMaxTokens(Math.max(1, Math.round(Number(e.currentTarget.value))))}
            />
          </label>
        </div>
        {needsKey || isPrivate || keyDraft ? (
          <label>
            Access key (kept in this tab only)
            <input
              type="password"
              autoComplete="off"
              placeholder="sk-…"
              value={keyDraft}
              onInput={(e) => setKeyDraft(e.currentTarget.value)}
              onChange={(e) => commitKey(e.currentTarget.value)}
            />
          </label>
        ) : null}
        <label>
          Message
          <textarea
            rows={3}
            value={prompt}
            placeholder="Ask something (Ctrl+Enter sends)"
            onInput={(e) => setPrompt(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
                e.preventDefault();
                void send();
              }
            }}
          />
        </label>
        <div class="actions">
          <button type="submit" disabled={running || !prompt.trim()}>
            Send
          </button>
          <button
            type="button"
            class="secondary"
            disabled={!running}
            onClick={() => controller.current?.abort()}
          >
            Stop
          </button>
        </div>
      </form>
      <ErrorNote error={error} />
      <div class="answer" aria-live="polite" aria-busy={running} data-testid="answer">
        {answer || (running ? <span class="muted">Waiting for the first token…</span> : null)}
      </div>
      {stopped ? <p class="muted">Stopped: the request was cancelled at the model.</p> : null}
      {result ? (
        <p class="stats" data-testid="answer-stats">
          Time to first token {result.ttftMs ?? '—'} ms · {result.tokens} tokens
          {result.tokensPerSecond !== null ? ` · ${result.tokensPerSecond} tokens/s` : ''}
        </p>
      ) : null}
    </section>
  );
}
