import type { Logger } from './logger';
import { describeUpstreamError, type Upstream } from './upstream';

/**
 * The upstream's model ids, fetched again on every connect (the list goes into the hello). A failed
 * fetch gives [] for that hello and keeps the last good list for filling in a request's model.
 */
export class ModelDiscovery {
  private models: string[] = [];
  private failing = false;
  private inFlight: AbortController | null = null;
  private stopped = false;

  constructor(
    private readonly upstream: Pick<Upstream, 'baseUrl' | 'listModels'>,
    private readonly logger: Logger,
  ) {}

  /** The last list the upstream gave ([] before any). */
  get known(): readonly string[] {
    return this.models;
  }

  /** Asks the upstream for its models; never rejects. */
  async fetch(): Promise<string[]> {
    const abort = new AbortController();
    this.inFlight = abort;
    try {
      const models = await this.upstream.listModels(abort.signal);
      if (this.failing || this.models.join() !== models.join()) {
        this.logger.info(`upstream models: ${models.length > 0 ? models.join(', ') : '(none)'}`);
      }
      this.failing = false;
      this.models = models;
      return models;
    } catch (err) {
      if (this.stopped) return [];
      // Said once per streak of failures, not on every reconnect attempt.
      const message = `could not list the upstream's models at ${this.upstream.baseUrl}/models: ${describeUpstreamError(err)}`;
      if (this.failing) this.logger.debug(message);
      else this.logger.warn(message);
      this.failing = true;
      return [];
    }
  }

  /** Aborts the fetch under way, quietly (shutdown). */
  stop(): void {
    this.stopped = true;
    this.inFlight?.abort();
  }
}
