import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiFailure, failureOf } from '../api';
import { streamChat } from '../chat-stream';
import { conversationMessages, takePlaygroundLoad, Turn } from '../conversation';
import { ErrorNote } from '../components/error-note';
import { MarkdownView } from '../components/markdown-view';
import { instanceKey } from '../session';
import { EmbeddingsPanel } from './embeddings-panel';

interface ModelList {
  data?: Array<{ id?: unknown }>;
}

const STOPPED = 'Stopped: the request was cancelled at the model.';

/** Try an instance from the page: a conversation with a model, streamed, stoppable, with its speed per answer. */
interface PlaygroundProps {
  instanceId: string;
  online: boolean;
  /** Chats need a key: the key field shows from the start. */
  isPrivate: boolean;
  /** The models the instance's public card names: /models should list them all. */
  expected: string[];
  /** The model chosen here ('' for none yet), so the page's snippets name one the instance accepts. */
  onModel: (model: string) => void;
  /** An Embeddings tab besides the chat: the instance's host serves `/embeddings`. */
  embeddings: boolean;
}

export function Playground({
  instanceId,
  online,
  isPrivate,
  expected,
  onModel,
  embeddings,
}: PlaygroundProps) {
  const base = `/api/chat/${encodeURIComponent(instanceId)}`;
  const [tab, setTab] = useState<'chat' | 'embeddings'>('chat');
  const chatting = tab === 'chat' || !embeddings;
  const [models, setModels] = useState<string[]>([]);
  const [model, setModel] = useState('');
  const [system, setSystem] = useState('');
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
  const [turns, setTurns] = useState<Turn[]>([]);
  const [error, setError] = useState<ApiFailure | null>(null);
  const [notice, setNotice] = useState('');
  const [running, setRunning] = useState(false);
  const controller = useRef<AbortController | null>(null);
  const nextId = useRef(0);
  // Bumped by Clear: an answer still arriving for a cleared conversation changes nothing.
  const generation = useRef(0);

  // A captured request the owner chose to try here ("Try in playground" in the inspector).
  useEffect(() => {
    const load = takePlaygroundLoad(instanceId);
    if (!load) return;
    setSystem(load.system);
    setPrompt(load.prompt);
    setTurns(
      load.exchanges.map((exchange) => ({
        id: nextId.current++,
        question: exchange.question,
        model: '',
        answer: exchange.answer,
        result: null,
        stopped: false,
      })),
    );
  }, [instanceId]);

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
          setModel('');
        }
      });
    return () => {
      cancelled = true;
      clearTimeout(retry);
    };
  }, [base, expectedKey, key, isPrivate, attempt]);

  useEffect(() => onModel(model), [model]);
  useEffect(() => () => controller.current?.abort(), []);

  /** Asks `question` after the `earlier` exchanges, streaming the answer into a new turn. */
  const ask = async (question: string, earlier: Turn[]) => {
    commitKey(keyDraft);
    const abort = new AbortController();
    controller.current = abort;
    const id = nextId.current++;
    const asked = generation.current;
    const update = (patch: Partial<Turn>) =>
      setTurns((all) => all.map((turn) => (turn.id === id ? { ...turn, ...patch } : turn)));
    setTurns([...earlier, { id, question, model, answer: '', result: null, stopped: false }]);
    setRunning(true);
    setError(null);
    setNotice('');
    let answered = '';
    try {
      const body: Record<string, unknown> = {
        messages: conversationMessages(system, earlier, question),
        temperature,
        max_tokens: maxTokens,
      };
      if (model) body.model = model;
      const result = await streamChat({
        url: base,
        body,
        key: keyDraft,
        signal: abort.signal,
        onText: (text) => {
          answered = text;
          update({ answer: text });
        },
      });
      update({ answer: result.text, result });
    } catch (failure) {
      if (generation.current !== asked) return;
      const stopped = abort.signal.aborted;
      if (stopped) {
        if (!answered) setNotice(STOPPED); // else the stopped answer says so itself
      } else if (failure instanceof ApiFailure) {
        setError(failure);
        if (failure.status === 401 || failure.status === 403) setNeedsKey(true);
      } else setError(new ApiFailure(0, `unexpected answer: ${String(failure)}`));
      if (answered) {
        if (stopped) update({ stopped: true });
      } else {
        // Nothing came: no empty answer stays behind, and the question is back in the box to send again.
        setTurns((all) => all.filter((turn) => turn.id !== id));
        setPrompt((draft) => draft || question);
      }
    } finally {
      if (controller.current === abort) {
        controller.current = null;
        setRunning(false);
      }
    }
  };

  const send = () => {
    const question = prompt.trim();
    if (!question || running) return;
    setPrompt('');
    void ask(question, turns);
  };
  const regenerate = () => {
    const last = turns.at(-1);
    if (last && !running) void ask(last.question, turns.slice(0, -1));
  };
  const clear = () => {
    generation.current++;
    controller.current?.abort();
    controller.current = null;
    setRunning(false);
    setTurns([]);
    setError(null);
    setNotice('');
  };

  return (
    <section class="playground" aria-labelledby="playground-title">
      <h2 id="playground-title">Playground</h2>
      {!online ? (
        <p class="muted">No host is connected right now: a chat would be refused with 503.</p>
      ) : null}
      {embeddings ? (
        <div class="tabs" role="tablist" aria-label="What to try">
          <button type="button" role="tab" aria-selected={chatting} onClick={() => setTab('chat')}>
            Chat
          </button>
          <button type="button" role="tab" aria-selected={!chatting} onClick={() => setTab('embeddings')}>
            Embeddings
          </button>
        </div>
      ) : null}
      <div class="settings">
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
          {chatting ? (
            <>
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
            </>
          ) : null}
        </div>
        {chatting ? (
          <label>
            System prompt (optional)
            <textarea
              rows={2}
              value={system}
              placeholder="How the model should answer, sent before the conversation"
              onInput={(e) => setSystem(e.currentTarget.value)}
            />
          </label>
        ) : null}
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
      </div>
      {!chatting ? (
        <EmbeddingsPanel url={base} model={model} apiKey={keyDraft} onSend={() => commitKey(keyDraft)} />
      ) : null}
      {chatting && turns.length > 0 ? (
        <ol class="transcript" aria-label="Conversation">
          {turns.map((turn, i) => (
            <li key={turn.id}>
              <div class="message message-user">
                <span class="who">You</span>
                <p class="plain">{turn.question}</p>
              </div>
              <div
                class="message message-model"
                aria-live="polite"
                aria-busy={running && i === turns.length - 1}
                data-testid="answer"
              >
                <span class="who">{turn.model || 'Model'}</span>
                {turn.answer ? (
                  <MarkdownView text={turn.answer} />
                ) : (
                  <p class="muted">Waiting for the first token…</p>
                )}
                {turn.stopped ? <p class="muted">{STOPPED}</p> : null}
                {turn.result ? (
                  <p class="stats" data-testid="answer-stats">
                    Time to first token {turn.result.ttftMs ?? '—'} ms · {turn.result.tokens} tokens
                    {turn.result.tokensPerSecond !== null ? ` · ${turn.result.tokensPerSecond} tokens/s` : ''}
                  </p>
                ) : null}
              </div>
            </li>
          ))}
        </ol>
      ) : null}
      {chatting ? <ErrorNote error={error} /> : null}
      {chatting && notice ? <p class="muted">{notice}</p> : null}
      {chatting ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            send();
          }}
        >
          <label>
            Message
            <textarea
              rows={3}
              value={prompt}
              placeholder={
                turns.length ? 'Ask a follow-up (Ctrl+Enter sends)' : 'Ask something (Ctrl+Enter sends)'
              }
              onInput={(e) => setPrompt(e.currentTarget.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
                  e.preventDefault();
                  send();
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
            <button
              type="button"
              class="secondary"
              disabled={running || turns.length === 0}
              onClick={regenerate}
            >
              Regenerate last
            </button>
            <button type="button" class="secondary" disabled={turns.length === 0 && !error} onClick={clear}>
              Clear
            </button>
          </div>
        </form>
      ) : null}
    </section>
  );
}
