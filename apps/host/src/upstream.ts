import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { abortError, type Abortable } from './cancellation';

export interface UpstreamOptions {
  /** Base URL without trailing slash, e.g. http://127.0.0.1:11434/v1. */
  baseUrl: string;
  apiKey?: string;
  /** Timeout of GET /models. */
  modelsTimeoutMs?: number;
}

/** What one health probe found (see `Upstream.probe`). */
export interface ProbeOutcome {
  status: 'ok' | 'unreachable' | 'error';
  /** For the instance's owner: what was asked and what came back (never the upstream key). */
  detail: string;
}

/** An upstream answer whose headers arrived; the caller reads `body` to its end or destroys it. */
export interface UpstreamResponse {
  status: number;
  /** The Content-Type header, '' without one. */
  contentType: string;
  body: IncomingMessage;
}

/**
 * How long an idle pooled socket is kept. Below the 5 s of Node's and uvicorn's servers (a
 * shorter `Keep-Alive: timeout=` hint from the server wins), so a request rarely picks a socket
 * the server is closing; the rare one that does is retried once (see `send`).
 */
const IDLE_SOCKET_MS = 4000;

/**
 * The model server next to the agent: any OpenAI-compatible base URL (Ollama, llama.cpp,
 * vLLM, LM Studio, ...). Plain node:http(s) with one keep-alive pool per Upstream (cheaper than
 * fetch on the hot path); an aborted request destroys its socket, so the model server sees the
 * connection close at once.
 */
export class Upstream {
  readonly baseUrl: string;
  private readonly modelsTimeoutMs: number;
  private readonly secure: boolean;
  private readonly hostname: string;
  private readonly port: number | undefined;
  /** Path prefix of the base URL (no trailing slash) and its query, if any. */
  private readonly basePath: string;
  private readonly query: string;
  private readonly agent: HttpAgent;
  private readonly chatHeaders: OutgoingHttpHeaders;
  private readonly modelsHeaders: OutgoingHttpHeaders;
  private readonly authHeaders: OutgoingHttpHeaders;

  constructor(options: UpstreamOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.modelsTimeoutMs = options.modelsTimeoutMs ?? 3000;
    const url = new URL(this.baseUrl);
    this.secure = url.protocol === 'https:';
    // node:http wants an IPv6 address without its brackets.
    this.hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = url.port === '' ? undefined : Number(url.port);
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.query = url.search;
    const agentOptions = {
      keepAlive: true,
      maxSockets: Infinity,
      scheduling: 'lifo',
      timeout: IDLE_SOCKET_MS,
    } as const;
    this.agent = this.secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    const auth: OutgoingHttpHeaders = options.apiKey ? { Authorization: `Bearer ${options.apiKey}` } : {};
    this.chatHeaders = { 'Content-Type': 'application/json', Accept: 'text/event-stream', ...auth };
    this.modelsHeaders = { Accept: 'application/json', ...auth };
    this.authHeaders = auth;
  }

  /** Model ids from GET /models; throws on any failure (callers fall back to []). */
  async listModels(signal?: AbortSignal): Promise<string[]> {
    const timeout = AbortSignal.timeout(this.modelsTimeoutMs);
    const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let text: string;
    try {
      const res = await this.send('GET', `${this.basePath}/models`, this.modelsHeaders, undefined, both);
      if (res.status < 200 || res.status > 299) {
        res.body.destroy();
        throw new Error(`GET /models answered HTTP ${res.status}`);
      }
      text = await readAll(res.body);
    } catch (err) {
      if (timeout.aborted && !signal?.aborted) {
        throw Object.assign(new Error(`no answer within ${this.modelsTimeoutMs} ms`), {
          name: 'TimeoutError',
        });
      }
      throw err;
    }
    const body = JSON.parse(text) as { data?: unknown } | null;
    if (!Array.isArray(body?.data)) throw new Error('GET /models answered without a data list');
    return body.data
      .map((m: unknown) => (typeof m === 'object' && m !== null ? (m as { id?: unknown }).id : undefined))
      .filter((id): id is string => typeof id === 'string' && id !== '');
  }

  /**
   * One health probe: GET `path` (under the base URL) within `timeoutMs`. `unreachable`: no HTTP
   * answer (refused, reset, timed out); `error`: an answer that is not 2xx (its status and the start
   * of its body). The body is read and dropped, so the socket goes back to the pool. Never rejects.
   */
  async probe(path: string, timeoutMs: number, signal?: AbortSignal): Promise<ProbeOutcome> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const res = await this.send('GET', `${this.basePath}${path}`, this.modelsHeaders, undefined, both);
      if (res.status >= 200 && res.status <= 299) {
        res.body.resume();
        return { status: 'ok', detail: `GET ${path} answered HTTP ${res.status}` };
      }
      const text = (await readSomeText(res.body, 120)).replace(/\s+/g, ' ').trim();
      return { status: 'error', detail: `GET ${path} answered HTTP ${res.status}${text ? `: ${text}` : ''}` };
    } catch (err) {
      const what =
        timeout.aborted && !signal?.aborted ? `no answer within ${timeoutMs} ms` : describeUpstreamError(err);
      return { status: 'unreachable', detail: `GET ${path}: ${what}` };
    }
  }

  /**
   * POST /chat/completions asking for an event stream. Resolves once the response headers
   * arrived; the caller reads the body to its end (the socket then returns to the pool) or
   * destroys it. Aborting `signal` destroys the request and its socket.
   */
  chatCompletions(body: Record<string, unknown>, signal: Abortable): Promise<UpstreamResponse> {
    const json = JSON.stringify(body);
    const headers = { ...this.chatHeaders, 'Content-Length': Buffer.byteLength(json) };
    return this.send('POST', `${this.basePath}/chat/completions`, headers, json, signal);
  }

  /**
   * POST to another endpoint: `path` below the base URL (`embeddings`), or from the base URL's
   * origin when it starts with `/` (`/v1/messages`, where Anthropic-style servers serve it).
   * The body is JSON text, or bytes (a multipart body, its Content-Type in `headers`).
   */
  post(
    path: string,
    headers: OutgoingHttpHeaders,
    body: string | Buffer,
    signal: Abortable,
  ): Promise<UpstreamResponse> {
    const full = path.startsWith('/') ? path : `${this.basePath}/${path}`;
    const all = { ...this.authHeaders, ...headers, 'Content-Length': Buffer.byteLength(body) };
    return this.send('POST', full, all, body, signal);
  }

  /** Destroys the pooled sockets, in use or idle (on shutdown, once requests are aborted). */
  close(): void {
    this.agent.destroy();
  }

  /**
   * One request (`path` from the origin). A pooled socket that the server closed while we picked it fails with
   * ECONNRESET before any answer; such a request is sent once more on a fresh socket (the
   * server never saw it, or dropped it unanswered).
   */
  private send(
    method: string,
    path: string,
    headers: OutgoingHttpHeaders,
    body: string | Buffer | undefined,
    signal: Abortable,
    retry = true,
  ): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(abortError());
      let answered = false;
      const req = (this.secure ? httpsRequest : httpRequest)(
        {
          hostname: this.hostname,
          port: this.port,
          path: path + this.query,
          method,
          headers,
          agent: this.agent,
        },
        (res) => {
          answered = true;
          const contentType = res.headers['content-type'];
          resolve({ status: res.statusCode ?? 0, contentType: contentType ?? '', body: res });
        },
      );
      // As node:http's `signal` option does, without needing an AbortSignal: cancelling destroys
      // the request and its socket, whether the answer has started or not, until the request closes.
      const onAbort = () => req.destroy(abortError());
      signal.addEventListener('abort', onAbort);
      req.once('close', () => signal.removeEventListener('abort', onAbort));
      // Stays attached for the request's life: later socket errors must not go unhandled.
      req.on('error', (err: Error & { code?: unknown }) => {
        if (answered) return;
        answered = true;
        if (retry && req.reusedSocket && err.code === 'ECONNRESET' && !signal.aborted) {
          resolve(this.send(method, path, headers, body, signal, false));
        } else {
          reject(err);
        }
      });
      req.end(body);
    });
  }
}

/** The whole body as text; rejects if the connection breaks first. */
function readAll(body: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    body.setEncoding('utf8');
    body.on('data', (chunk: string) => (text += chunk));
    body.on('end', () => resolve(text));
    body.on('error', reject);
    body.on('close', () => reject(new Error('connection closed before the end of the answer')));
  });
}

/**
 * Reads at most `limit` characters of an error body; a longer body is cut off (its socket is
 * closed), a shorter one read to its end (its socket goes back to the pool). Never rejects.
 */
export function readSomeText(body: IncomingMessage, limit = 500): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    let over = false;
    const finish = () => {
      if (over) return;
      over = true;
      body.removeListener('data', onData);
      if (!body.readableEnded) body.destroy();
      resolve(text.slice(0, limit));
    };
    const onData = (chunk: string) => {
      text += chunk;
      if (text.length >= limit) finish();
    };
    body.setEncoding('utf8');
    body.on('data', onData);
    body.on('end', finish);
    body.on('error', finish);
    body.on('close', finish);
  });
}

/**
 * A short description of a failed upstream request: node:http errors (`connect ECONNREFUSED
 * 127.0.0.1:11434`, `socket hang up (ECONNRESET)`), node:net's AggregateError when every
 * address of a name failed, and fetch's (undici's) errors with the useful part in `cause`.
 */
export function describeUpstreamError(err: unknown): string {
  // Duck-typed: errors from another realm (e.g. inside jest's sandbox) fail `instanceof Error`.
  const e = err as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    errors?: unknown;
    cause?: { code?: unknown; message?: unknown };
  } | null;
  if (!e || typeof e.message !== 'string') return String(err);
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return e.message;
  if (Array.isArray(e.errors) && e.errors.length > 0) {
    return [...new Set(e.errors.map(describeUpstreamError))].join('; ');
  }
  const code = typeof e.code === 'string' ? e.code : '';
  let text = e.message || code || 'unknown error';
  if (code !== '' && !text.includes(code)) text += ` (${code})`;
  const cause = e.cause;
  if (cause && typeof cause.message === 'string') {
    const causeCode =
      typeof cause.code === 'string' && !cause.message.includes(cause.code) ? `${cause.code} ` : '';
    return `${text}: ${causeCode}${cause.message}`;
  }
  return text;
}
