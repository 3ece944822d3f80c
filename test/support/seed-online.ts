import { channelNames } from '@app/protocol';
import { Redis } from 'ioredis';
import type { Client } from 'pg';

/** Ids of seeded instances: `seed` + 8 digits, in registration order. */
export const seededId = (i: number) => `seed${String(i).padStart(8, '0')}`;

/**
 * Registers instances `from`..`to`-1 directly in PostgreSQL (public, connected once, registered one
 * second apart in id order) and, for the first `online` of them, writes what a node holding their
 * host sockets writes (`instance_holders` rows naming `nodeId`), without opening any socket. They
 * show online while `nodeId` is a live node.
 */
export async function seedOnline(opts: {
  db: Client;
  nodeId: string;
  from: number;
  to: number;
  /** How many of them are online (default: all). */
  online?: number;
}): Promise<void> {
  const { db, nodeId, from, to } = opts;
  const onlineTo = from + (opts.online ?? to - from);
  await db.query(
    `INSERT INTO instances (id, upload_name, password_hash, first_connected_at, updated_at, registered_at)
     SELECT 'seed' || lpad(i::text, 8, '0'), 'seeded ' || i, '\\x00'::bytea, now(), now(),
            timestamp '2026-01-01' + make_interval(secs => i)
       FROM generate_series($1::int, $2::int - 1) AS i`,
    [from, to],
  );
  await db.query(
    `INSERT INTO instance_holders (instance_id, node_id)
     SELECT 'seed' || lpad(i::text, 8, '0'), $3 FROM generate_series($1::int, $2::int - 1) AS i`,
    [from, onlineTo, nodeId],
  );
}

/**
 * A registry node in name only: it joins the cluster's membership and listens on its request
 * channel (so every node counts it alive), holds no sockets and never rewrites its rows — what
 * `seedOnline` writes for it stays. `stop()` makes it die like a killed node.
 */
export async function startPhantomNode(
  redisUrl: string,
  prefix: string,
  nodeId = `phantom-${process.pid}`,
): Promise<{ nodeId: string; stop(): Promise<void> }> {
  const subscriber = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0 });
  await subscriber.connect();
  await subscriber.subscribe(channelNames(prefix).requests(nodeId));
  const command = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0 });
  await command.connect();
  await command.sadd(`${prefix}:nodes`, nodeId);
  command.disconnect();
  return {
    nodeId,
    stop: async () => {
      subscriber.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 50));
    },
  };
}
