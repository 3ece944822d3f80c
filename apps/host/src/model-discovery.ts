import type { Logger } from './logger';
import { upstreamChecks, type ModelsOutcome } from './startup-checks';
import { describeUpstreamError, type Upstream } from './upstream';

/**
 * The upstream's model ids, fetched again on every connect (the list goes into the hello). A failed
 * fetch gives [] for that hello and keeps the last good list for filling in a request's model.
 * What it finds is judged by the start-up checks (unreachable, no models, `--model` missing) and
 * said once per change, with what to do, not on every reconnect.
 */
export class ModelDiscovery {
  private models: string[] = [];
  /** What was last said: the failing check's class, or the list that was fine. */
  private said: string | null = null;
  private inFlight: AbortController | null = null;
  private stopped = false;

  constructor(
    private readonly upstream: Pick<Upstream, 'baseUrl' | 'listModels'>,
    private readonly logger: Logger,
    /** `--model`: checked against the list. */
    private readonly model?: string,
  ) {}

  /** The last list the upstream gave ([] before any). */
  get known(): readonly string[] {
    return this.models;
  }

  /** Asks the upstream for its models; never rejects. */
  async fetch(): Promise<string[]> {
    const abort = new AbortController();
    this.inFlight = abort;
    let outcome: ModelsOutcome;
    try {
      const models = await this.upstream.listModels(abort.signal);
      this.models = models;
      outcome = { models };
    } catch (err) {
      if (this.stopped) return [];
      outcome = { error: describeUpstreamError(err) };
    }
    this.report(outcome);
    return 'models' in outcome ? [...outcome.models] : [];
  }

  /** Aborts the fetch under way, quietly (shutdown). */
  stop(): void {
    this.stopped = true;
    this.inFlight?.abort();
  }

  private report(outcome: ModelsOutcome): void {
    const results = upstreamChecks(this.upstream.baseUrl, outcome, this.model);
    const failed = results.find((r) => !r.ok);
    const state = failed && !failed.ok ? failed.failure : `ok:${this.models.join(',')}`;
    const repeated = state === this.said;
    this.said = state;
    if (failed) {
      if (repeated) this.logger.debug(failed.line);
      else this.logger.warn(failed.line);
    } else if (!repeated) {
      this.logger.info(results[0].line);
    }
  }
}
