import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { ChatFailureCode } from '@app/protocol';
import { anthropicError } from '../common/anthropic-error';
import { openAiError, openAiErrorType } from '../common/openai-error';
import { chatFailure, failureRetryAfter } from '../chat/chat-failures';
import type { ChatOutcome, ChatSummary } from '../chat/chat-exchange';
import type { RoutedSink } from '../chat/chat-router';
import { IdleTimer } from '../chat/idle-timer';
import { readHeadLine } from '../hosts/http-response-lines';
import type { BufferBudget } from '../limits/buffer-budget';
import { UsageChunkCutter } from './usage-chunk-cutter';
import { UsageReader } from './usage-reader';

/** Most of one event held back while it is read for a usage-only chunk (which is far smaller). */
const MAX_HELD_EVENT_CHARS = 64 * 1024;

/** Whose error shape the caller gets. */
export type ErrorShape = 'openai' | 'anthropic';

export interface PassthroughOptions {
  requestId: string;
  shape: ErrorShape;
  receivedAt: number;
  firstChunkTimeoutMs: number;
  idleTimeoutMs: number;
  totalTimeoutMs: number;
  /** Bytes the caller may leave unread before this request is cut off. */
  maxBufferedBytes: number;
  /** Most of a JSON answer kept to read its usage. */
  maxUsageBytes: number;
  /** Cut the usage-only chunk out of an event stream (the registry asked for it, the caller did not). */
  stripUsageChunk?: boolean;
  buffers?: BufferBudget;
  cancel: () => void;
  finished: (summary: ChatSummary) => void;
}

/**
 * The caller's side of a request for another endpoint (embeddings, completions, responses,
 * Anthropic messages): the host's answer is written as the model server wrote it — its status,
 * content type and body — with chat's timeouts, slow-reader cut-off and cancellation. The first
 * line is the head (see asChatResponse); a failure before it gets a real status in the shape of
 * the API called, one after it ends the response early (an event-stream error event, or a cut
 * connection for a JSON body, so a partial answer never looks whole).
 */
export class PassthroughExchange implements RoutedSink {
  private started = false;
  private finished = false;
  private stream = false;
  /** The status the caller got (null: none yet). */
  private status: number | null = null;
  private usage: UsageReader | null = null;
  private cutter: UsageChunkCutter | null = null;
  private firstChunkAt: number | null = null;
  private dispatchedAt: number;
  private charged = 0;
  private totalTimer?: NodeJS.Timeout;
  private readonly idle = new IdleTimer((message) => this.error('timeout', message));

  constructor(
    private readonly res: ServerResponse,
    private readonly options: PassthroughOptions,
  ) {
    this.dispatchedAt = options.receivedAt;
    res.on('close', () => {
      this.charge(0);
      if (!this.finished) this.finish('caller_gone', true);
    });
    if (options.buffers) res.on('drain', () => this.charge(0));
    this.totalTimer = setTimeout(
      () => this.error('timeout', 'the model took longer than the total time limit'),
      options.totalTimeoutMs,
    );
    this.idle.arm(options.firstChunkTimeoutMs, 'the host sent nothing before the first-chunk time limit');
  }

  get isFinished(): boolean {
    return this.finished;
  }

  dispatched(): void {
    this.dispatchedAt = performance.now();
  }

  lines(lines: string[]): void {
    if (this.finished) return;
    this.idle.touch();
    let text = '';
    for (const line of lines) {
      if (this.started) text += line;
      else if (!this.start(line)) return;
    }
    if (text === '') return;
    this.usage?.add(text);
    if (this.cutter) text = this.cutter.push(text);
    if (text === '') return;
    this.res.write(text);
    this.checkBacklog();
  }

  done(): void {
    if (this.finished) return;
    if (!this.started) return this.error('host_error', 'the host ended the request without an answer');
    this.res.end(this.cutter?.end());
    this.finish('completed', false);
  }

  error(code: ChatFailureCode, message: string): void {
    if (this.finished) return;
    const failure = chatFailure(code);
    if (!this.started) {
      const body = JSON.stringify(
        this.options.shape === 'anthropic'
          ? anthropicError(failure.status, message)
          : openAiError(message, openAiErrorType(failure.status), code),
      );
      const retryAfter = failureRetryAfter(code);
      this.status = failure.status;
      this.res.writeHead(failure.status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'x-request-id': this.options.requestId,
        ...(retryAfter !== undefined && { 'retry-after': retryAfter }),
      });
      this.res.end(body);
    } else if (this.stream) {
      const event =
        this.options.shape === 'anthropic'
          ? anthropicError(failure.status, message)
          : openAiError(message, openAiErrorType(failure.status), code);
      const held = this.cutter?.end() ?? '';
      this.res.end(`${held}event: error\ndata: ${JSON.stringify(event)}\n\n`);
    } else {
      this.res.destroy();
    }
    this.finish(code, failure.cancelAtHost);
  }

  /** The head line: writes the status and content type. False when it is not one (the request fails). */
  private start(line: string): boolean {
    const head = readHeadLine(line);
    if (!head) {
      this.error('host_error', 'the host answered out of order');
      this.options.cancel();
      return false;
    }
    this.started = true;
    this.status = head.status;
    this.firstChunkAt = performance.now();
    this.idle.arm(this.options.idleTimeoutMs, 'the host went silent mid-answer');
    this.stream = head.contentType.startsWith('text/event-stream');
    this.usage = new UsageReader(this.stream, this.options.maxUsageBytes);
    if (this.stream && this.options.stripUsageChunk) this.cutter = new UsageChunkCutter(MAX_HELD_EVENT_CHARS);
    this.res.writeHead(head.status, {
      'content-type': head.contentType || 'application/octet-stream',
      'x-request-id': this.options.requestId,
      ...(this.stream && { 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' }),
    });
    // Flushed now: a stream's first event may be a while away, and callers wait on the headers.
    this.res.flushHeaders();
    return true;
  }

  private checkBacklog(): void {
    if (this.finished) return;
    const backlog = this.res.writableLength;
    this.charge(backlog);
    const overNodeBudget = backlog > 0 && this.options.buffers?.exceeded === true;
    if (backlog <= this.options.maxBufferedBytes && !overNodeBudget) return;
    this.finish('slow_reader', true);
    this.res.destroy();
  }

  private charge(backlog: number): void {
    const buffers = this.options.buffers;
    if (!buffers) return;
    buffers.used += backlog - this.charged;
    this.charged = backlog;
  }

  private finish(outcome: ChatOutcome, cancelAtHost: boolean): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.totalTimer);
    this.idle.stop();
    if (cancelAtHost) this.options.cancel();
    const usage = this.usage?.end() ?? { prompt: 0, completion: 0 };
    const now = performance.now();
    this.options.finished({
      requestId: this.options.requestId,
      outcome,
      registryMs: this.dispatchedAt - this.options.receivedAt,
      firstChunkMs: this.firstChunkAt === null ? null : this.firstChunkAt - this.options.receivedAt,
      durationMs: now - this.options.receivedAt,
      promptTokens: usage.prompt,
      completionTokens: usage.completion,
      status: this.status,
    });
  }
}
