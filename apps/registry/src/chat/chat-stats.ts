import { Injectable } from '@nestjs/common';
import type { ChatOutcome } from './chat-exchange';

/** Counts chats by outcome on this node (exposed by the health endpoint; metrics build on it). */
@Injectable()
export class ChatStats {
  readonly outcomes = new Map<ChatOutcome, number>();

  record(outcome: ChatOutcome): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.outcomes);
  }
}
