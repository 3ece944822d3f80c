import type { ModelStatus } from '@app/protocol';
import type { Logger } from './logger';
import { withAdvice } from './startup-checks';
import type { ProbeOutcome } from './upstream';

/** A detail that changed while the status did not is reported at most this often (an error body may vary per probe). */
export const DETAIL_REPORT_MS = 60_000;
/** A failed chat asks for a probe now, but not more often than this. */
export const EARLY_PROBE_MS = 1_000;

export interface ModelHealthOptions {
  /** One probe of the model server; never rejects (`Upstream.probe`). */
  probe: (signal: AbortSignal) => Promise<ProbeOutcome>;
  intervalMs: number;
  /** The model server's base URL, for the lines a person reads. */
  upstreamUrl: string;
  logger: Logger;
  /** A status to tell the registry: on each change of status (and, at most every DETAIL_REPORT_MS, of detail). */
  report: (outcome: ProbeOutcome) => void;
  now?: () => number;
}

/**
 * The model server's health, as the agent reports it to the registry (`model_status`): probed at
 * start, every `intervalMs`, and at once after a chat failed (EARLY_PROBE_MS apart); one probe at
 * a time. A change is reported and said once to the owner, with what to do; a steady state costs
 * one probe per interval on this machine and nothing on the registry.
 */
export class ModelHealth {
  private last: ProbeOutcome | null = null;
  private reportedAt = 0;
  private timer?: NodeJS.Timeout;
  private probing: Promise<void> | null = null;
  private lastProbeAt = -Infinity;
  private readonly abort = new AbortController();
  private readonly now: () => number;

  constructor(private readonly options: ModelHealthOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The last probe's outcome (null before the first one ended). */
  get current(): ProbeOutcome | null {
    return this.last;
  }

  get status(): ModelStatus | null {
    return this.last?.status ?? null;
  }

  /** Probes now and then every interval, until `stop`. */
  start(): Promise<void> {
    const first = this.probeNow();
    this.schedule();
    return first;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.abort.abort();
  }

  /** A chat failed: look now (unless a probe ran within EARLY_PROBE_MS), so the registry learns within a second. */
  chatFailed(): void {
    if (this.now() - this.lastProbeAt < EARLY_PROBE_MS) return;
    void this.probeNow();
  }

  /** One probe (joins the one under way); resolves once its outcome is reported. */
  probeNow(): Promise<void> {
    if (this.abort.signal.aborted) return Promise.resolve();
    this.probing ??= this.runProbe().finally(() => (this.probing = null));
    return this.probing;
  }

  private schedule(): void {
    if (this.abort.signal.aborted) return;
    this.timer = setTimeout(() => {
      void this.probeNow().then(() => this.schedule());
    }, this.options.intervalMs);
    this.timer.unref();
  }

  private async runProbe(): Promise<void> {
    this.lastProbeAt = this.now();
    const outcome = await this.options.probe(this.abort.signal);
    if (this.abort.signal.aborted) return;
    const previous = this.last;
    this.last = outcome;
    const changed = previous?.status !== outcome.status;
    if (changed) this.say(previous, outcome);
    if (changed || (previous.detail !== outcome.detail && this.now() - this.reportedAt >= DETAIL_REPORT_MS)) {
      this.reportedAt = this.now();
      this.options.report(outcome);
    }
  }

  private say(previous: ProbeOutcome | null, outcome: ProbeOutcome): void {
    const { logger, upstreamUrl } = this.options;
    if (outcome.status === 'ok') {
      if (previous) logger.info(`model server at ${upstreamUrl} answers again; chats flow to it`);
      return;
    }
    const what =
      outcome.status === 'unreachable'
        ? `model server at ${upstreamUrl} is unreachable (${outcome.detail})`
        : `model server at ${upstreamUrl} answers with an error (${outcome.detail})`;
    logger.warn(
      `${withAdvice('upstream_unreachable', what)}; the registry sends this agent no chats meanwhile`,
    );
  }
}
