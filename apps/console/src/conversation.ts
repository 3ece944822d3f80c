import type { ChatResult } from './chat-stream';

/** One question of a playground conversation and the answer so far. */
export interface Turn {
  id: number;
  question: string;
  /** The model asked ('' when the instance announced none). */
  model: string;
  answer: string;
  /** Time to first token and speed, once the answer completed. */
  result: ChatResult | null;
  /** Stopped by the user: the text so far stays. */
  stopped: boolean;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** What a question is sent with: the system prompt, every earlier exchange in order, then the question. */
export function conversationMessages(system: string, earlier: Turn[], question: string): ChatMessage[] {
  const messages: ChatMessage[] = system.trim() ? [{ role: 'system', content: system.trim() }] : [];
  for (const turn of earlier) {
    messages.push({ role: 'user', content: turn.question });
    if (turn.answer) messages.push({ role: 'assistant', content: turn.answer });
  }
  messages.push({ role: 'user', content: question });
  return messages;
}
