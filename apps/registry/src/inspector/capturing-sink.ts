import type { ChatFailureCode } from '@app/protocol';
import type { RoutedSink } from '../chat/chat-router';

/** The text a chunk line adds to the answer: a stream's `delta.content`, or a whole `message.content`. */
export function answerText(line: string): string {
  const data = line.startsWith('data:') ? line.slice(5).trim() : line.trim();
  if (!data.startsWith('{')) return '';
  try {
    const chunk = JSON.parse(data) as {
      choices?: { delta?: { content?: unknown }; message?: { content?: unknown } }[];
    };
    const choice = chunk.choices?.[0];
    const content = choice?.delta?.content ?? choice?.message?.content;
    return typeof content === 'string' ? content : '';
  } catch {
    return '';
  }
}

/**
 * Passes a chat's lines on to the caller and assembles the answer's text on the side, up to
 * `maxChars` characters (then it stops reading). Only chats whose instance captures bodies pass
 * through it: the others pay nothing.
 */
export class CapturingSink implements RoutedSink {
  private text = '';

  constructor(
    private readonly caller: RoutedSink,
    private readonly maxChars: number,
  ) {}

  get isFinished(): boolean {
    return this.caller.isFinished;
  }

  /** The answer so far (at most `maxChars` + one chunk; the store cuts it to its byte limit). */
  get answer(): string {
    return this.text;
  }

  lines(lines: string[]): void {
    for (const line of lines) if (this.text.length < this.maxChars) this.text += answerText(line);
    this.caller.lines(lines);
  }

  done(): void {
    this.caller.done();
  }

  error(code: ChatFailureCode, message: string): void {
    this.caller.error(code, message);
  }
}
