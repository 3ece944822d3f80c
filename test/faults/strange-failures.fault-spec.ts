import { Redis } from 'ioredis';
import { Client } from 'pg';
import { channelNames } from '@app/protocol';
import { TestCluster } from '../support/cluster';
import { writeGhostReplica } from '../support/ghost-replica';
import { POSTGRES_ADMIN_URL } from '../support/postgres';
import { RunningRegistry } from '../support/processes';
import { RedisServer } from '../support/redis-server';
import { eventually, registerInstance, Registered } from '../support/registry-client';

interface ReadyAnswer {
  status: number;
  text: string;
  checks?: Record<string, string>;
}

async function readyz(node: RunningRegistry): Promise<ReadyAnswer> {
  const res = await fetch(`${node.url}/readyz`);
  const text = await res.text();
  return {
    status: res.status,
    text,
    checks: (JSON.parse(text) as { checks?: Record<string, string> }).checks,
  };
}

/**
 * Failures that come from inside the cluster — another registry node answering in a way this
 * version does not know, Redis or the database gone — reach anonymous callers as clean errors:
 * a real HTTP status, the OpenAI error shape, and none of the driver's own words.
 */
describe('fault: strange failures from another node, Redis or the database', () => {
  let redis: RedisServer;
  let cluster: TestCluster;
  let node: RunningRegistry;
  let instance: Registered;
  /** Plays a registry node 'ghost' that holds the instance's host: it answers each chat with `reply`. */
  let ghostSub: Redis;
  let ghostPub: Redis;
  let reply: (requestId: string) => Record<string, unknown>;

  beforeAll(async () => {
    redis = await RedisServer.start();
    // A short first-chunk limit: a reply that is lost instead of failing the chat shows up as 504.
    cluster = await TestCluster.start({
      label: 'strange',
      nodes: 1,
      redisUrl: redis.url,
      env: { CHAT_FIRST_CHUNK_TIMEOUT_MS: '3000' },
    });
    cluster.onStop(() => redis.stop());
    [node] = cluster.nodes;
    instance = await registerInstance(node.url, 'held by a ghost node');

    const channels = channelNames(cluster.prefix);
    ghostSub = new Redis(redis.url);
    ghostPub = new Redis(redis.url);
    await ghostSub.subscribe(channels.requests('ghost'));
    ghostSub.on('message', (_channel: string, payload: string) => {
      const message = JSON.parse(payload) as { kind: string; requestId: string; from: string };
      if (message.kind !== 'chat') return;
      void ghostPub.publish(channels.replies(message.from), JSON.stringify(reply(message.requestId)));
    });
    await writeGhostReplica(ghostPub, cluster.prefix, instance.instanceId, 'ghost');
  });

  afterAll(async () => {
    ghostSub?.disconnect();
    ghostPub?.disconnect();
    if (cluster) await cluster.stop();
    else await redis?.stop();
  });

  const chat = async () => {
    const res = await fetch(`${node.url}/api/chat/${instance.instanceId}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
    });
    return { status: res.status, body: (await res.json()) as { error?: Record<string, unknown> } };
  };

  it('answers 502 with an OpenAI error when another node fails a chat with an unknown or malformed code', async () => {
    const forged: Record<string, (requestId: string) => Record<string, unknown>> = {
      'unknown code (a newer node)': (requestId) => ({
        kind: 'error',
        requestId,
        seq: 0,
        code: 'brand_new_failure',
        message: 'internal detail of the other node',
      }),
      'no code at all': (requestId) => ({ kind: 'error', requestId, seq: 0 }),
      'a message that is not text': (requestId) => ({
        kind: 'error',
        requestId,
        seq: 0,
        code: 'host_error',
        message: { stack: 'internal detail of the other node' },
      }),
      'an unknown reply kind': (requestId) => ({ kind: 'brand_new_kind', requestId, seq: 0 }),
    };
    for (const [what, forge] of Object.entries(forged)) {
      reply = forge;
      const { status, body } = await chat();
      console.log(`strange reply, ${what}: ${status} ${JSON.stringify(body)}`);
      expect({ what, status }).toEqual({ what, status: 502 });
      expect(body.error).toEqual({
        message: expect.any(String) as string,
        type: 'server_error',
        param: null,
        code: 'node_error',
      });
      expect(JSON.stringify(body)).not.toContain('internal detail');
    }
    expect(node.proc.running).toBe(true);
    expect(node.proc.output.join('\n')).toContain('brand_new_failure');
  });

  it('/readyz says Redis is unreachable (503) without the driver message, which goes to the log', async () => {
    const from = node.proc.output.length;
    await redis.kill();
    const answer = await readyz(node);
    console.log(`readyz with Redis down: ${answer.status} ${answer.text}`);
    expect(answer.status).toBe(503);
    expect(answer.checks).toEqual({ draining: 'no', database: 'ok', redis: 'unreachable' });
    await node.proc.waitFor(/readiness: redis check failed: \S/, 5_000, from);
    await redis.start();
    await eventually(async () => (await readyz(node)).status === 200, 5_000);
  });

  it('/readyz says the database is unreachable (503) without naming it', async () => {
    const database = new URL(cluster.env.DATABASE_URL).pathname.slice(1);
    const from = node.proc.output.length;
    const admin = new Client({ connectionString: POSTGRES_ADMIN_URL });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE "${database}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
    const answer = await readyz(node);
    console.log(`readyz with the database gone: ${answer.status} ${answer.text}`);
    expect(answer.status).toBe(503);
    expect(answer.checks?.database).toBe('unreachable');
    expect(answer.text).not.toContain(database);
    await node.proc.waitFor(/readiness: database check failed: \S/, 5_000, from);
  });
});
