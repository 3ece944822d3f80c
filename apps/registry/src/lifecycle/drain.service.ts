import { Inject, Injectable, Logger } from '@nestjs/common';
import { ChatRelayService } from '../chat/chat-relay.service';
import { RemoteChatServer } from '../chat/remote-chat.server';
import { APP_CONFIG, AppConfig, isDistributed } from '../config/app-config';
import { ConnectedHosts } from '../hosts/connected-hosts';
import { PassthroughRelayService } from '../passthrough/passthrough-relay.service';
import { NodeState } from './node-state';

const POLL_MS = 50;

/**
 * Graceful drain (SIGTERM): readiness turns false at once, hosts are told to reconnect elsewhere
 * (`goaway`), no new chats or hosts are accepted, and in-flight streams get the grace period to
 * finish before whatever is left is ended with an error event.
 */
@Injectable()
export class DrainService {
  private readonly logger = new Logger(DrainService.name);

  constructor(
    private readonly state: NodeState,
    private readonly hosts: ConnectedHosts,
    private readonly chats: ChatRelayService,
    /** Requests for the other endpoints (embeddings, completions, responses, messages) drain as chats do. */
    private readonly passthrough: PassthroughRelayService,
    private readonly remoteChats: RemoteChatServer,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Resolves when nothing is left in flight, or the grace period ran out. */
  async drain(): Promise<{ clean: boolean; waitedMs: number }> {
    const started = Date.now();
    this.state.draining = true;
    this.logger.log(`draining: ${this.hosts.openCount} host(s), ${this.inFlight()} stream(s) in flight`);
    // With one node (no Redis) there is nowhere to hand a host over to.
    const handoffMs = isDistributed(this.config)
      ? Math.min(this.config.drainHandoffMs, this.config.drainGraceMs)
      : 0;
    this.hosts.goawayAll('node draining', handoffMs);
    const deadline = started + this.config.drainGraceMs;
    while (this.inFlight() + this.hosts.openCount > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const clean = this.inFlight() === 0;
    if (!clean) {
      this.logger.warn(`grace period over: ending ${this.inFlight()} stream(s) with an error`);
      this.chats.abortAll('the registry node shut down before the answer completed');
      this.passthrough.abortAll('the registry node shut down before the answer completed');
    }
    this.hosts.terminateAll();
    const waitedMs = Date.now() - started;
    this.logger.log(`drained in ${waitedMs} ms${clean ? '' : ' (some streams were cut)'}`);
    return { clean, waitedMs };
  }

  private inFlight(): number {
    return this.chats.activeCount + this.passthrough.activeCount + this.remoteChats.size;
  }
}
