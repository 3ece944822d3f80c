import type { Redis } from 'ioredis';

/**
 * Writes presence for a registry node that does not exist ("ghost"): the owner record and the
 * instance's replica entry (unnamed replica) as the claim script would, valid for an hour.
 */
export async function writeGhostReplica(
  redis: Redis,
  prefix: string,
  instanceId: string,
  nodeId: string,
  epoch = 1,
): Promise<void> {
  const state = JSON.stringify({ n: nodeId, c: 1, f: 0, t: Date.now(), d: 0 });
  await redis.set(`${prefix}:owner:${instanceId}`, `${nodeId}|${epoch}`);
  await redis.hset(`${prefix}:reps:${instanceId}`, '', `${Date.now() + 3_600_000}|${epoch}|${state}`);
}
