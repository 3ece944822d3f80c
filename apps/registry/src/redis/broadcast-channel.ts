import type { RedisClient } from './redis-connections';

export interface BroadcastLog {
  warn(message: string): void;
}

/**
 * Subscribes `subscriber` to a classic pub/sub channel every node listens on, and re-subscribes
 * it whenever the connection is ready again (the cluster bus turns ioredis' own resubscription
 * off). `onReady` runs at each re-subscription too (e.g. to drop caches that may have missed
 * messages). Resolves once subscribed; returns the function that stops listening.
 */
export async function subscribeBroadcast(
  subscriber: RedisClient,
  channel: string,
  onMessage: (payload: string) => void,
  log: BroadcastLog,
  onReady?: () => void,
): Promise<() => void> {
  const message = (from: string, payload: string) => {
    if (from === channel) onMessage(payload);
  };
  const ready = () => {
    onReady?.();
    subscriber.subscribe(channel).catch((err: Error) => log.warn(err.message));
  };
  subscriber.on('message', message);
  subscriber.on('ready', ready);
  await subscriber.subscribe(channel);
  return () => {
    subscriber.off('message', message);
    subscriber.off('ready', ready);
  };
}
