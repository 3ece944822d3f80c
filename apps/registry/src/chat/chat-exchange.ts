import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { ChatSink } from '../contracts/chat-sink';
import { eventPayloads, type ChatFailureCode } from '@app/protocol';
import type { BufferBudget } from '../limits/buffer-budget';
import { openAiError, openAiErrorType } from '../common/openai-error';
import { CompletionAssembler } from './completion-assembler';
import { chatFailure, failureRetryAfter } from './chat-failures';
import { IdleTimer } from './idle-timer';
import { withoutDroppedUsage } from './usage-events';

export interface ExchangeOptions {
  requestId: string;
  stream: boolean;
  /** performance.now() when the request arrived (for Server-Timing and metrics). */
  receivedAt: number;
  keepaliveMs: number;
  firstChunkTimeoutMs: number;
  idleTimeoutMs: number;
  totalTimeoutMs: number;
  /** Bytes the caller may leave unread before this request (only this one) is cut off. */
  maxBufferedBytes: number;
  /** Largest answer assembled for `stream: false` before it is refused with 502. */
  maxAssembledBytes: number;
  /** Unread bytes of every chat on the node: a write that takes it past its limit cuts this request off. */
  buffers?: BufferBudget;
  /** Drop the usage-only chunk (`choices: []`) the host's model sent although the caller did not ask for it. */
  stripUsageChunk?: boolean;
  /** Stop the request at the host (caller left, timed out, or too slow). */
  cancel: () => void;
  /** Called once at the end, for metrics and logs. */
  finished?: (summary: ChatSummary) => void;
}

export type ChatOutcome = 'completed' | ChatFailureCode | 'caller_gone' | 'slow_reader';

export interface ChatSummary {
  requestId: string;
  outcome: ChatOutcome;
  /** Registry time before the chat was handed on (validation, lookup, routing). */
  registryMs: number;
  /** From arrival to the first chunk; null if none came. */
  firstChunkMs: number | null;
  durationMs: number;
  /** From the model's `usage` (0 when it sent none). */
  promptTokens: number;
  completionTokens: number;
  /** The HTTP status the caller got (200 once a stream started); null if the caller left before any. */
  status: number | null;
}

/** A line that carries a usage object (not `"usage":null`, which some servers put on every chunk). */
const hasUsage = (line: string) => line.includes('"usage":{') || line.includes('"usage": {');

const DONE = 'data: [DONE]\n\n';

/**
 * The caller's side of one chat: turns what the host sends into an SSE stream (or one JSON
 * answer), with keepalives, timeouts and cancellation. Headers wait for the first event, so a
 * failure before any token still gets a real HTTP status; after that, failures are reported as
 * an SSE error event and the stream ends without [DONE].
 */
export class ChatExchange implements ChatSink {
  private started = false;
  private status: number | null = null;
  private finished = false;
  private dispatchedAt: number;
  private firstChunkAt: number | null = null;
  /** This caller's backlog as last counted in `options.buffers`. */
  private charged = 0;
  private readonly assembler: CompletionAssembler | null;
  private readonly usage = { prompt: 0, completion: 0 };
  private readonly timers: { keepalive?: NodeJS.Timeout; total?: NodeJS.Timeout } = {};
  private readonly idle = new IdleTimer((message) => this.error('timeout', message));

  constructor(
    private readonly res: ServerResponse,
    private readonly options: ExchangeOptions,
  ) {
    this.assembler = options.stream ? null : new CompletionAssembler(options.maxAssembledBytes);
    this.dispatchedAt = options.receivedAt;
    res.on('close', () => {
      this.charge(0);
      if (!this.finished) this.finish('caller_gone', true);
    });
    if (options.buffers) res.on('drain', () => this.charge(0));
    this.timers.total = setTimeout(
      () => this.error('timeout', 'the model took longer than the total time limit'),
      options.totalTimeoutMs,
    );
    this.idle.arm(options.firstChunkTimeoutMs, 'the host sent nothing before the first-chunk time limit');
    if (options.stream) this.timers.keepalive = setInterval(() => this.keepalive(), options.keepaliveMs);
  }

  /** The answer ended (completed, failed, or the caller left). */
  get isFinished(): boolean {
    return this.finished;
  }

  /** The chat was handed to the host (or the owner node): the registry's own part is over. */
  dispatched(): void {
    this.dispatchedAt = performance.now();
  }

  lines(lines: string[]): void {
    if (this.finished) return;
    this.noteActivity();
    for (let i = 0; i < lines.length; i++) {
      if (!hasUsage(lines[i]) || !this.readUsage(lines[i])) continue;
      // The caller did not ask for usage: the registry asked for it (to count tokens), so it is removed.
      lines = lines.filter((_, j) => j !== i);
      i--;
    }
    if (lines.length === 0) return;
    if (this.assembler) {
      for (const line of lines) this.assembler.add(line);
      if (this.assembler.failure !== null) {
        this.error('host_error', this.assembler.failure);
        this.options.cancel(); // The host may still be writing the rest of an answer nobody will get.
      }
      return;
    }
    this.startStream();
    let text = '';
    for (const line of lines) text += `data: ${line}\n\n`;
    this.res.write(text);
    this.checkBacklog();
  }

  /**
   * Whole SSE events from a binary chunk frame: written as the bytes they are. Only an answer
   * assembled for `stream: false` is read whole; otherwise only the events a byte search finds a
   * `usage` object in are parsed (counted, and cut out when the caller did not ask for usage).
   */
  rawEvents(events: Buffer): void {
    if (this.finished) return;
    if (this.assembler) return this.lines(eventPayloads(events));
    this.noteActivity();
    const out = withoutDroppedUsage(events, this.readUsageOf);
    if (out.length === 0) return;
    this.startStream();
    this.res.write(out);
    this.checkBacklog();
  }

  done(): void {
    if (this.finished) return;
    if (this.assembler) {
      this.sendJson(200, this.assembler.result(`chatcmpl-${this.options.requestId}`));
    } else {
      this.startStream();
      this.res.end(DONE);
    }
    this.finish('completed', false);
  }

  error(code: ChatFailureCode, message: string): void {
    if (this.finished) return;
    const failure = chatFailure(code);
    const body = openAiError(message, openAiErrorType(failure.status), code);
    if (!this.started) {
      const retryAfter = failureRetryAfter(code);
      this.sendJson(failure.status, body, retryAfter === undefined ? {} : { 'retry-after': retryAfter });
    } else {
      this.res.end(`data: ${JSON.stringify(body)}\n\n`);
    }
    this.finish(code, failure.cancelAtHost);
  }

  /** Something came from the host: the first chunk switches the idle limit to the mid-answer one. */
  private noteActivity(): void {
    if (this.firstChunkAt !== null) return this.idle.touch();
    this.firstChunkAt = performance.now();
    this.idle.arm(this.options.idleTimeoutMs, 'the host went silent mid-answer');
  }

  private readonly readUsageOf = (line: string) => this.readUsage(line);

  /** Notes the tokens of a line carrying `usage`; true when it is a usage-only chunk to strip. */
  private readUsage(line: string): boolean {
    let chunk: { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown }; choices?: unknown };
    try {
      chunk = JSON.parse(line) as typeof chunk;
    } catch {
      return false;
    }
    const { prompt_tokens: prompt, completion_tokens: completion } = chunk.usage ?? {};
    if (typeof prompt === 'number' && Number.isFinite(prompt)) this.usage.prompt = Math.max(0, prompt);
    if (typeof completion === 'number' && Number.isFinite(completion))
      this.usage.completion = Math.max(0, completion);
    return (
      this.options.stripUsageChunk === true && Array.isArray(chunk.choices) && chunk.choices.length === 0
    );
  }

  /**
   * What the kernel did not take stays in the response's buffer: past the limit, the caller reads
   * slower than the model writes, and this request (only this one) is cut off. Checked after each
   * write. (Writes are not corked per tick: corking hides what the kernel would have taken, and
   * deferring the check lets an answer that arrives in one tick sit unread in memory whole.)
   */
  private checkBacklog(): void {
    if (this.finished) return;
    const backlog = this.res.writableLength;
    this.charge(backlog);
    const overNodeBudget = backlog > 0 && this.options.buffers?.exceeded === true;
    if (backlog <= this.options.maxBufferedBytes && !overNodeBudget) return;
    this.finish('slow_reader', true);
    this.res.destroy();
  }

  /** Keeps the node-wide total of unread bytes in step with this caller's backlog. */
  private charge(backlog: number): void {
    const buffers = this.options.buffers;
    if (!buffers) return;
    buffers.used += backlog - this.charged;
    this.charged = backlog;
  }

  private keepalive(): void {
    if (this.finished) return;
    this.startStream();
    this.res.write(': keepalive\n\n');
  }

  private startStream(): void {
    if (this.started) return;
    this.started = true;
    this.status = 200;
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': this.options.requestId,
      'server-timing': this.serverTiming(),
    });
    // No flushHeaders(): the headers leave with the first event, written right after this.
  }

  private sendJson(status: number, body: unknown, headers: Record<string, string> = {}): void {
    this.started = true;
    this.status = status;
    const text = JSON.stringify(body);
    this.res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'x-request-id': this.options.requestId,
      'server-timing': this.serverTiming(),
      ...headers,
    });
    this.res.end(text);
  }

  /** Splits the time before the answer started into the registry's part and the host's part. */
  private serverTiming(): string {
    const registry = this.dispatchedAt - this.options.receivedAt;
    const host = performance.now() - this.dispatchedAt;
    return `registry;dur=${registry.toFixed(2)};desc="registry", host;dur=${host.toFixed(2)};desc="host until first event"`;
  }

  private finish(outcome: ChatOutcome, cancelAtHost: boolean): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timers.total);
    this.idle.stop();
    clearInterval(this.timers.keepalive);
    if (cancelAtHost) this.options.cancel();
    const now = performance.now();
    this.options.finished?.({
      requestId: this.options.requestId,
      outcome,
      registryMs: this.dispatchedAt - this.options.receivedAt,
      firstChunkMs: this.firstChunkAt === null ? null : this.firstChunkAt - this.options.receivedAt,
      durationMs: now - this.options.receivedAt,
      promptTokens: this.usage.prompt,
      completionTokens: this.usage.completion,
      status: this.status,
    });
  }
}
