/**
 * A fake OpenAI-compatible model server for tests and benchmarks (plain node:http).
 *
 *   GET  /v1/models            -> {object:'list', data:[{id, object:'model', created, owned_by}]}
 *   POST /v1/chat/completions  -> SSE chat.completion.chunk stream, or one chat.completion JSON
 *   POST /v1/embeddings, /v1/completions, /v1/responses, /v1/messages, /v1/rerank -> see fake-model-endpoints.ts
 *   POST /v1/audio/transcriptions (multipart) -> see fake-model-audio.ts
 *
 *   GET  /_stats               -> {requests, completed, aborted, active, waiting, maxActive, started}
 *
 * Per-request behaviours, chosen by the last user message's content:
 *   [hang]     one chunk, then nothing until the client disconnects
 *   [slow]     200 ms between chunks (other endpoints: anywhere in the body, 200 ms between events)
 *   [error500] HTTP 500
 *   [no-usage] no usage chunk, even when `stream_options.include_usage` asks for one
 *
 * `maxConcurrent` serves that many chats at once, like a local model on one GPU: the others wait,
 * in arrival order, before their answer (and its headers) starts.
 */
import { EventEmitter } from 'node:events';
import { createServer, type ServerResponse, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerTranscription, readFormBody, TRANSCRIPTIONS_PATH } from './fake-model-audio';
import { answerEndpoint, ENDPOINT_PATHS, streamEvents } from './fake-model-endpoints';
import { FifoSlots } from './fifo-slots';

export interface FakeModelOptions {
  /** Port to listen on (default 0: an ephemeral port). */
  port?: number;
  host?: string;
  /** Content chunks per answer (default 5). */
  chunks?: number;
  /** Delay between chunks in ms; 0 writes the whole answer at once (default 0). */
  delayMs?: number;
  /** Delay before the first chunk of a streamed answer, after the headers (default 0): "thinking". */
  firstDelayMs?: number;
  /** Words cycled through, or a function giving chunk i's content. */
  content?: string[] | ((index: number, body: ChatBody) => string);
  /** Answer every chat with this HTTP status and an OpenAI-style error. */
  failWith?: number;
  /** Model ids listed by /v1/models (default ['fake-model']). */
  models?: string[];
  /** Keep every request in `requests` (default true; turn off for long benchmarks). */
  record?: boolean;
  /** Chats answered at once; the others wait in arrival order (default: no limit). */
  maxConcurrent?: number;
}

export interface ChatBody {
  model?: string;
  messages?: Array<{ role?: string; content?: unknown }>;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  [k: string]: unknown;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (undefined for none, the raw text if it was not JSON). */
  body: unknown;
  /** Date.now() when the request arrived. */
  at: number;
}

export interface AbortedEvent {
  path: string;
  body: unknown;
  /** Date.now() when the client went away. */
  at: number;
  /** Chunks written before that. */
  chunksSent: number;
}

export interface FakeModel {
  /** Base URL ending in /v1. */
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Responses (chat or another endpoint) whose client closed the connection before they ended. */
  aborted: AbortedEvent[];
  /** Emits 'request' (RecordedRequest), 'aborted' (AbortedEvent), 'completed' ({path, at}). */
  events: EventEmitter;
  counters: { requests: number; completed: number; aborted: number };
  /** Chats answering now, waiting for a slot, the most at once, started so far. */
  load(): ChatLoad;
  /** Resolves with the next 'aborted' event, or rejects after timeoutMs. */
  nextAbort(timeoutMs?: number): Promise<AbortedEvent>;
  close(): Promise<void>;
  /**
   * A model server shut down between answers: takes no new connection, answers what reaches it
   * on the ones it has (then closes each), and closes once none is answering (after `graceMs` at most).
   */
  stop(graceMs?: number): Promise<void>;
}

export interface ChatLoad {
  active: number;
  waiting: number;
  maxActive: number;
  started: number;
}

const DEFAULT_WORDS = ['Hello', ' from', ' the', ' fake', ' model', '.'];

export function lastUserText(body: ChatBody): string {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    if (Array.isArray(m.content)) {
      return m.content
        .map((part: unknown) =>
          typeof part === 'object' && part !== null ? (part as { text?: unknown }).text : '',
        )
        .filter((t): t is string => typeof t === 'string')
        .join(' ');
    }
    return '';
  }
  return '';
}

function promptTokens(body: ChatBody): number {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const chars = messages.reduce((n, m) => n + (typeof m?.content === 'string' ? m.content.length : 0), 0);
  return Math.max(1, Math.ceil(chars / 4));
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function errorBody(message: string, type: string, code: string | null = null) {
  return { error: { message, type, param: null, code } };
}

export async function startFakeModel(opts: FakeModelOptions = {}): Promise<FakeModel> {
  const chunkCount = Math.max(0, opts.chunks ?? 5);
  const baseDelay = Math.max(0, opts.delayMs ?? 0);
  const firstDelay = Math.max(0, opts.firstDelayMs ?? 0);
  const models = opts.models ?? ['fake-model'];
  const record = opts.record ?? true;
  const created = Math.floor(Date.now() / 1000);
  const contentFn =
    typeof opts.content === 'function'
      ? opts.content
      : (i: number) => {
          const words = Array.isArray(opts.content) && opts.content.length > 0 ? opts.content : DEFAULT_WORDS;
          return words[i % words.length];
        };

  const events = new EventEmitter();
  const requests: RecordedRequest[] = [];
  const aborted: AbortedEvent[] = [];
  const counters = { requests: 0, completed: 0, aborted: 0 };
  const timers = new Set<NodeJS.Timeout>();
  let nextId = 0;
  let closing = false;
  /** `stop()` under way: every answer closes its connection. */
  let stopping = false;
  const slots = new FifoSlots(opts.maxConcurrent ?? Infinity);
  const load = (): ChatLoad => ({
    active: slots.active,
    waiting: slots.waiting,
    maxActive: slots.maxActive,
    started: slots.started,
  });

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      if (!closing) fn();
    }, ms);
    timers.add(t);
    return t;
  };

  const chat = (res: ServerResponse, path: string, body: ChatBody) => {
    const text = lastUserText(body);
    const status = opts.failWith ?? (text.includes('[error500]') ? 500 : undefined);
    if (status !== undefined) {
      sendJson(res, status, errorBody(`fake model failure (HTTP ${status})`, 'server_error', 'fake_failure'));
      return;
    }
    let begun = false;
    const leave = slots.enter(() => {
      begun = true;
      answer(res, path, body, text);
    });
    res.once('close', () => {
      leave();
      if (begun) return;
      // Gone while waiting for a slot: aborted before its first byte.
      const event: AbortedEvent = { path, body, at: Date.now(), chunksSent: 0 };
      counters.aborted++;
      aborted.push(event);
      events.emit('aborted', event);
    });
  };

  const answer = (res: ServerResponse, path: string, body: ChatBody, text: string) => {
    const hang = text.includes('[hang]');
    const delay = text.includes('[slow]') ? 200 : baseDelay;
    const model =
      typeof body.model === 'string' && body.model !== '' ? body.model : (models[0] ?? 'fake-model');
    const id = `chatcmpl-fake-${++nextId}`;
    const contents = Array.from({ length: hang ? 1 : chunkCount }, (_, i) => contentFn(i, body));
    const completionTokens = contents.length;
    const usage = {
      prompt_tokens: promptTokens(body),
      completion_tokens: completionTokens,
      total_tokens: promptTokens(body) + completionTokens,
    };

    if (body.stream !== true) {
      sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: contents.join('') },
            logprobs: null,
            finish_reason: 'stop',
          },
        ],
        usage,
      });
      return;
    }

    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      `data: ${JSON.stringify({
        id,
        object: 'chat.completion.chunk',
        created,
        model,
        choices: [{ index: 0, delta, finish_reason: finish }],
      })}\n\n`;
    const parts = contents.map((content, i) =>
      chunk(i === 0 ? { role: 'assistant', content } : { content }, null),
    );
    const tail: string[] = [chunk({}, 'stop')];
    if (body.stream_options?.include_usage && !text.includes('[no-usage]')) {
      tail.push(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`,
      );
    }
    tail.push('data: [DONE]\n\n');

    let sent = 0;
    res.on('close', () => {
      if (res.writableFinished) return;
      const event: AbortedEvent = { path, body, at: Date.now(), chunksSent: sent };
      counters.aborted++;
      aborted.push(event);
      events.emit('aborted', event);
    });
    res.on('finish', () => {
      counters.completed++;
      events.emit('completed', { path, at: Date.now() });
    });
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
    });

    if (hang) {
      res.write(parts[0]);
      sent = 1;
      return; // until the client goes away (or close())
    }
    if (delay === 0 && firstDelay === 0) {
      sent = parts.length;
      res.end(parts.join('') + tail.join(''));
      return;
    }
    const step = () => {
      if (res.destroyed) return;
      if (sent < parts.length) {
        res.write(parts[sent++]);
        later(delay, step);
      } else {
        res.end(tail.join(''));
      }
    };
    if (firstDelay > 0) later(firstDelay, step);
    else step();
  };

  const server = createServer((req, res) => {
    if (stopping) res.shouldKeepAlive = false;
    const path = (req.url ?? '/').split('?')[0].replace(/\/+$/, '') || '/';
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    const onEnd = async () => {
      const bytes = Buffer.concat(chunks);
      // A transcription's multipart body: its fields and the file described (see fake-model-audio.ts).
      const form =
        path === TRANSCRIPTIONS_PATH
          ? await readFormBody(bytes, String(req.headers['content-type'] ?? ''))
          : null;
      const raw = form ? '' : bytes.toString('utf8');
      let body: unknown = form ?? undefined;
      let badJson = false;
      if (raw !== '') {
        try {
          body = JSON.parse(raw);
        } catch {
          body = raw;
          badJson = true;
        }
      }
      // Not a model request: neither counted nor recorded.
      if (req.method === 'GET' && path === '/_stats') {
        sendJson(res, 200, { ...counters, ...load() });
        return;
      }
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path,
        headers: req.headers,
        body,
        at: Date.now(),
      };
      counters.requests++;
      if (record) requests.push(recorded);
      events.emit('request', recorded);

      if (req.method === 'GET' && path === '/v1/models') {
        sendJson(res, 200, {
          object: 'list',
          data: models.map((id) => ({ id, object: 'model', created, owned_by: 'fake' })),
        });
        return;
      }
      if (req.method === 'POST' && path === '/v1/chat/completions') {
        if (badJson || typeof body !== 'object' || body === null || Array.isArray(body)) {
          sendJson(res, 400, errorBody('body must be a JSON object', 'invalid_request_error'));
          return;
        }
        chat(res, path, body as ChatBody);
        return;
      }
      if (req.method === 'POST' && ENDPOINT_PATHS.includes(path)) {
        if (badJson || typeof body !== 'object' || body === null || Array.isArray(body)) {
          sendJson(res, 400, errorBody('body must be a JSON object', 'invalid_request_error'));
          return;
        }
        const b = body as ChatBody;
        if (opts.failWith !== undefined)
          return sendJson(
            res,
            opts.failWith,
            errorBody('fake model failure', 'server_error', 'fake_failure'),
          );
        const words = Array.from({ length: chunkCount }, (_, i) => contentFn(i, b));
        const model = typeof b.model === 'string' && b.model !== '' ? b.model : (models[0] ?? 'fake-model');
        // [slow] anywhere in the body (a prompt, an input, a message): 200 ms between events, as chat's.
        const delay = JSON.stringify(b).includes('[slow]') ? 200 : baseDelay;
        const progress = { sent: 0 };
        res.on('close', () => {
          if (res.writableFinished) return;
          const event: AbortedEvent = { path, body, at: Date.now(), chunksSent: progress.sent };
          counters.aborted++;
          aborted.push(event);
          events.emit('aborted', event);
        });
        const reply = () =>
          path === TRANSCRIPTIONS_PATH
            ? answerTranscription(res, b, model, (events) => streamEvents(res, events, delay, progress))
            : answerEndpoint(res, path, b, words, model, delay, progress);
        // firstDelayMs: "thinking" before the head, so a request can be caught before its first byte.
        if (firstDelay > 0) later(firstDelay, reply);
        else reply();
        return;
      }
      sendJson(
        res,
        404,
        errorBody(`no route for ${req.method} ${path}`, 'invalid_request_error', 'not_found'),
      );
    };
    req.on('end', () => void onEnd());
  });
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}/v1`,
    port: address.port,
    requests,
    aborted,
    events,
    counters,
    load,
    nextAbort(timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          events.off('aborted', onAbort);
          reject(new Error(`no aborted request within ${timeoutMs} ms`));
        }, timeoutMs);
        const onAbort = (e: AbortedEvent) => {
          clearTimeout(timer);
          resolve(e);
        };
        events.once('aborted', onAbort);
      });
    },
    async stop(graceMs = 5_000) {
      stopping = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const until = Date.now() + graceMs;
      while (Date.now() < until && load().active + load().waiting > 0)
        await new Promise((resolve) => setTimeout(resolve, 5));
      closing = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await closed;
    },
    close() {
      closing = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

const isChat = (r: RecordedRequest) => r.method === 'POST' && r.path === '/v1/chat/completions';

/** Chat requests the model received (not counting the agent's GET /v1/models); needs `record`. */
export const chatsReceived = (model: FakeModel): number => model.requests.filter(isChat).length;

/** The last user message of every chat request the model received; needs `record`. */
export const chatTextsReceived = (model: FakeModel): string[] =>
  model.requests.filter(isChat).map((r) => lastUserText(r.body as ChatBody));

/** Resolves with the last user message of the next chat request `model` receives. */
export function nextChatRequest(model: FakeModel): Promise<string> {
  return new Promise((resolve) => {
    const onRequest = (r: RecordedRequest) => {
      if (!isChat(r)) return;
      model.events.off('request', onRequest);
      resolve(lastUserText(r.body as ChatBody));
    };
    model.events.on('request', onRequest);
  });
}
