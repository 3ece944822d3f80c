import type { ChatFailureCode } from '@app/protocol';
import type { ChatSink } from '../../apps/registry/src/contracts/chat-sink';

/** The caller's side of a chat: records what reached it (`lines…`, `done`, `error:<code>`). */
export class RecordingSink implements ChatSink {
  readonly events: string[] = [];
  isFinished = false;

  lines(lines: string[]): void {
    this.events.push(...lines);
  }

  done(): void {
    this.events.push('done');
    this.isFinished = true;
  }

  error(code: ChatFailureCode): void {
    this.events.push(`error:${code}`);
    this.isFinished = true;
  }
}
