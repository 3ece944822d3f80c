/**
 * Streamed chats as load for routing and fault tests: each chat is bounded (a chat that hangs is
 * aborted and marked, never waited on forever) and remembers when it was sent.
 */
import { contentOf, startStream, StreamEnd } from './sse';

export interface TimedChat {
  /** The user message it sent. */
  content: string;
  /** Date.now() when the request was sent. */
  sentAt: number;
  end: StreamEnd;
  /** It did not end by itself within its limit and was aborted: it hung. */
  timedOut: boolean;
}

/** One streamed chat to `url`, aborted (and marked `timedOut`) if it has not ended after `limitMs`. */
export async function timedChat(url: string, content = 'under load', limitMs = 15_000): Promise<TimedChat> {
  const sentAt = Date.now();
  const stream = startStream(url, { messages: [{ role: 'user', content }] });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    stream.abort();
  }, limitMs);
  const end = await stream.ended.finally(() => clearTimeout(timer));
  return { content, sentAt, end, timedOut };
}

/**
 * `total` chats sent by `workers` loops, each sending its next chat when its previous one ended:
 * a steady load of exactly `workers` chats at a time.
 */
export async function closedLoop(workers: number, total: number, url: () => string): Promise<TimedChat[]> {
  const results: TimedChat[] = [];
  let sent = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (sent < total) {
        sent++;
        results.push(await timedChat(url()));
      }
    }),
  );
  return results;
}

/**
 * One loop per URL, each sending its next chat when its previous one ended, until `stop()`. Each
 * chat says `chat <n>` (n counts from 1), so a model's recorded requests tell which chats it got.
 */
export function steadyLoad(
  urls: string[],
  limitMs = 15_000,
): { results: TimedChat[]; stop(): Promise<void> } {
  const results: TimedChat[] = [];
  let running = true;
  let sent = 0;
  const loops = urls.map(async (url) => {
    while (running) results.push(await timedChat(url, `chat ${++sent}`, limitMs));
  });
  return {
    results,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** A one-line account of how a chat ended, for assertion messages. */
export const describeChat = (c: TimedChat): string =>
  `${c.end.status} done=${c.end.done} error=${c.end.error?.code ?? null} transport=${c.end.transportError} ` +
  `timedOut=${c.timedOut} ${contentOf(c.end.data).slice(0, 60) || c.end.data.join('').slice(0, 120)}`;
