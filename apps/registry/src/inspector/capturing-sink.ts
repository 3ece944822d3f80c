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
 * The text an answer line of another endpoint adds: the body as the model server wrote it (the
 * first line is the head — status and content type — which the inspector shows elsewhere).
 */
export const bodyText = (line: string, index: number): string => (index === 0 ? '' : line);

/**
 * Passes a chat's lines on to the caller and assembles the answer's text on the side, up to
 * `maxChars` characters (then it stops reading). Only chats whose instance captures bodies pass
 * through it: the others pay nothing. `textOf` reads a chat's content by default; `bodyText` keeps
 * another endpoint's body as it was written.
 */
export class CapturingSink implements RoutedSink {
  private text = '';
  private seen = 0;

  constructor(
    private readonly caller: RoutedSink,
    private readonly maxChars: number,
    private readonly textOf: (line: string, index: number) => string = answerText,
  ) {}

  get isFinished(): boolean {
    return this.caller.isFinished;
  }

  /** The answer so far (at most `maxChars` + one chunk; the store cuts it to its byte limit). */
  get answer(): string {
    return this.text;
  }

  lines(lines: string[]): void {
    for (const line of lines) {
      if (this.text.length < this.maxChars) this.text += this.textOf(line, this.seen);
      this.seen++;
    }
    this.caller.lines(lines);
  }

  done(): void {
    this.caller.done();
  }

  error(code: ChatFailureCode, message: string): void {
    this.caller.error(code, message);
  }
}
