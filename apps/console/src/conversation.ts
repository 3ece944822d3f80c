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

/** A playground to open with: a system prompt, earlier exchanges, and the question last asked (not sent). */
export interface PlaygroundLoad {
  system: string;
  exchanges: Array<{ question: string; answer: string }>;
  prompt: string;
}

/** A message's text: a string, or the text parts of an array of content parts. */
const textOf = (content: unknown): string =>
  typeof content === 'string'
    ? content
    : Array.isArray(content)
      ? content
          .map((part: { type?: unknown; text?: unknown }) =>
            typeof part?.text === 'string' ? part.text : '',
          )
          .join('')
      : '';

/**
 * A captured request's messages as a playground conversation: system messages become the system
 * prompt, user/assistant pairs earlier exchanges, and a last user message without an answer the
 * question in the box. Null when `request` is not a chat request's JSON (e.g. cut at 32 KiB).
 */
export function playgroundLoad(request: string): PlaygroundLoad | null {
  let body: { messages?: unknown };
  try {
    body = JSON.parse(request) as { messages?: unknown };
  } catch {
    return null;
  }
  if (!Array.isArray(body?.messages)) return null;
  const load: PlaygroundLoad = { system: '', exchanges: [], prompt: '' };
  const system: string[] = [];
  let question: string | null = null;
  for (const message of body.messages as Array<{ role?: unknown; content?: unknown }>) {
    const text = textOf(message?.content);
    if (message?.role === 'system' || message?.role === 'developer') system.push(text);
    else if (message?.role === 'user') {
      if (question !== null) load.exchanges.push({ question, answer: '' });
      question = text;
    } else if (message?.role === 'assistant' && question !== null) {
      load.exchanges.push({ question, answer: text });
      question = null;
    }
  }
  load.system = system.join('\n\n');
  load.prompt = question ?? '';
  return load;
}

const LOAD_KEY = (instanceId: string) => `playground-load:${instanceId}`;

/** Hands a conversation to the instance page's playground (read once, then forgotten). */
export function handToPlayground(instanceId: string, load: PlaygroundLoad): void {
  sessionStorage.setItem(LOAD_KEY(instanceId), JSON.stringify(load));
}

export function takePlaygroundLoad(instanceId: string): PlaygroundLoad | null {
  const text = sessionStorage.getItem(LOAD_KEY(instanceId));
  if (text === null) return null;
  sessionStorage.removeItem(LOAD_KEY(instanceId));
  try {
    return JSON.parse(text) as PlaygroundLoad;
  } catch {
    return null;
  }
}
