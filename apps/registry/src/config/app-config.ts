import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { adminToken, bool, Env, int, invalid, oneOf, seedNodes, trustProxy, url } from './env-readers';

/**
 * Every setting of a registry node, read once from the environment at boot.
 * `PORT`, `DATABASE_URL` and `REDIS_URL` are the contract; the rest are ours (see docs/configuration.md).
 */
export interface AppConfig {
  port: number;
  host: string;
  /** PostgreSQL URL; absent = embedded PGlite in `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  /** Apply committed migrations at boot (MIGRATE_ON_START=false to run `npm run db:migrate` yourself). */
  migrateOnStart: boolean;
  /** Redis URL; absent = presence and routing in memory (single node). */
  redisUrl?: string;
  /** Seed nodes (`host:port`) of a Redis Cluster, used instead of `redisUrl`; absent = one Redis. */
  redisClusterNodes?: { host: string; port: number }[];
  redisPrefix: string;
  nodeId: string;
  /** Replicas (agent connections with distinct names) one instance may have connected at once (0 = no limit). */
  replicasPerInstance: number;
  /** Public base URL used to build `ws_url` in register answers; derived from the request when absent. */
  publicUrl?: string;
  /** Bearer token for the operators' endpoints (`/api/admin/*`); absent = open to anyone. */
  adminToken?: string;
  bodyLimitBytes: number;
  /** How long a node shares one answer of a public directory read (list page, count) among its callers. */
  directoryCacheMs: number;
  /**
   * Which proxies' X-Forwarded-For to believe when working out a client's address (per-IP limits,
   * logs): none (default), the nearest N hops, or proxies by address / CIDR / keyword.
   */
  trustProxy: TrustProxy;
  /** How long a draining node lets in-flight streams finish (SIGTERM). */
  drainGraceMs: number;
  /**
   * Distributed mode: how long a draining node keeps serving a host that understood `goaway`
   * while it reconnects to another node (make-before-break), before closing its socket anyway.
   */
  drainHandoffMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** `text` for people, `json` (one object per line) for log pipelines. */
  logFormat: 'text' | 'json';
  http: {
    /** A client must finish sending request headers within this time (slowloris). */
    headersTimeoutMs: number;
    /** A client must finish sending the whole request within this time. */
    requestTimeoutMs: number;
  };
  limits: {
    /** Open host sockets per client IP (0 = no limit). */
    socketsPerIp: number;
    /** Host connections (authenticated upgrades) per client address per minute (0 = no limit). */
    hostConnectsPerIpPerMin: number;
    /** Host connections per instance per minute (0 = no limit). */
    hostConnectsPerInstancePerMin: number;
    /** Failed authentications per IP per minute before 429 (0 = no limit). */
    authFailuresPerIpPerMin: number;
    /** Failed authentications per instance per minute before 429 (0 = no limit). */
    authFailuresPerInstancePerMin: number;
    /** Chat requests per caller IP per minute (0 = no limit). */
    chatsPerIpPerMin: number;
    /** Chat requests per instance per minute (0 = no limit). */
    chatsPerInstancePerMin: number;
    /** Registrations (new or re-registration) per client address per minute (0 = no limit). */
    registrationsPerIpPerMin: number;
    /** Chats in flight on this node before 503 (0 = no limit). */
    chatsInFlightPerNode: number;
    /** Chats in flight per caller address on this node before 429 (0 = no limit). */
    chatsInFlightPerIp: number;
    /** Bytes all callers together may leave unread on this node (0 = no limit). */
    bufferedBytesPerNode: number;
    /** Request bodies of the chats in flight on this node, kept until each ends (for failover; 0 = no limit). */
    requestBytesPerNode: number;
    /** The same per caller address (0 = no limit). */
    requestBytesPerIp: number;
    /** Highest `page_no` of the public list (422 beyond: deep offsets cost the database). */
    maxPageNo: number;
  };
  ws: {
    maxPayloadBytes: number;
    pingIntervalMs: number;
    handshakeTimeoutMs: number;
    /** A host that leaves more than this unread (bytes queued to it) is closed with 1008. */
    maxSendBufferBytes: number;
    /** Frames / bytes a host socket may send per second; past either, reading pauses until the next second (0 = no limit). */
    maxFramesPerSec: number;
    maxBytesPerSec: number;
    /** Malformed frames or frames for request ids it was never given before a host is closed with 4400 (0 = no limit). */
    maxBadFrames: number;
    /** Offer our agent binary chunk frames (see libs/protocol chunk-frames.ts); off = JSON frames from every host. */
    binaryChunks: boolean;
  };
  presence: {
    ttlMs: number;
    refreshMs: number;
    /** How often buffered last_heartbeat values are written to the database. */
    flushMs: number;
  };
  chat: {
    firstChunkTimeoutMs: number;
    idleTimeoutMs: number;
    totalTimeoutMs: number;
    keepaliveMs: number;
    /** Queue length per replica beyond its capacity before 429. */
    queueLimit: number;
    /** How long a chat waits for a replica to connect when none is (0: 503 at once). */
    holdMs: number;
    /** Chats that may wait so, per instance and node, before 429. */
    holdLimit: number;
    /** Chats that may wait so on this node, all instances together, before 503. */
    holdNodeLimit: number;
    /** Only an instance whose host was connected within this long is waited for (else 503 at once). */
    holdRecentMs: number;
    /** Bytes buffered for one slow caller before the request is cut off. */
    maxBufferedBytes: number;
    /** Largest `stream: false` answer the node assembles before answering 502. */
    maxAssembledBytes: number;
    /** How long a node trusts its cached "this instance exists". */
    instanceCacheMs: number;
  };
  keys: {
    /** How long a node trusts a cached key when a revocation broadcast was lost (the safety net). */
    cacheMs: number;
    /** Keys neither revoked nor expired per instance. */
    maxPerInstance: number;
    /** Tokens of a key's tokens_per_day a node takes from the shared day counter at a time, per chat in flight. */
    tokenLease: number;
    /** Keys stored per instance, revoked and expired ones included until they are purged. */
    maxStoredPerInstance: number;
    /** Keys an instance may create per hour (across all nodes). */
    createsPerHour: number;
    /** Days a revoked or expired key is kept (listed as such) before it is deleted. */
    retentionDays: number;
  };
  usage: {
    /** How often aggregated usage is written (what a SIGKILL can lose at most). */
    flushMs: number;
    /** Days usage rows are kept before they are deleted. */
    retentionDays: number;
  };
}

export type TrustProxy =
  { kind: 'none' } | { kind: 'hops'; hops: number } | { kind: 'addresses'; addresses: string[] };

export function loadConfig(env: Env = process.env): AppConfig {
  const presenceTtlMs = int(env, 'PRESENCE_TTL_MS', 30_000, 1_000, 600_000);
  const config: AppConfig = {
    port: int(env, 'PORT', 3000, 0, 65_535),
    host: env.HOST || '0.0.0.0',
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    // memory:// is PGlite's in-memory database (nothing kept), not a path.
    dataDir: env.REGISTRY_DATA_DIR?.startsWith('memory://')
      ? env.REGISTRY_DATA_DIR
      : path.resolve(env.REGISTRY_DATA_DIR || '.data/pglite'),
    migrateOnStart: bool(env, 'MIGRATE_ON_START', true),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    redisClusterNodes: seedNodes(env, 'REDIS_CLUSTER_NODES'),
    redisPrefix: env.REDIS_PREFIX || 'mreg',
    nodeId: env.NODE_ID || `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
    replicasPerInstance: int(env, 'REPLICAS_PER_INSTANCE', 32, 0, 100_000),
    publicUrl: url(env, 'PUBLIC_URL', ['http:', 'https:']),
    adminToken: adminToken(env, 'ADMIN_TOKEN'),
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    directoryCacheMs: int(env, 'DIRECTORY_CACHE_MS', 1_000, 0, 60_000),
    trustProxy: trustProxy(env, 'TRUST_PROXY'),
    drainGraceMs: int(env, 'DRAIN_GRACE_MS', 25_000, 0, 600_000),
    drainHandoffMs: int(env, 'DRAIN_HANDOFF_MS', 5_000, 0, 600_000),
    logLevel: oneOf(env, 'LOG_LEVEL', ['debug', 'info', 'warn', 'error', 'silent'] as const, 'info'),
    logFormat: oneOf(env, 'LOG_FORMAT', ['text', 'json'] as const, 'text'),
    http: {
      headersTimeoutMs: int(env, 'HTTP_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000),
      requestTimeoutMs: int(env, 'HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000),
    },
    limits: {
      socketsPerIp: int(env, 'WS_MAX_SOCKETS_PER_IP', 2_000, 0, 10_000_000),
      hostConnectsPerIpPerMin: int(env, 'HOST_CONNECTS_PER_IP_PER_MIN', 1_200, 0, 100_000_000),
      hostConnectsPerInstancePerMin: int(env, 'HOST_CONNECTS_PER_INSTANCE_PER_MIN', 120, 0, 100_000_000),
      authFailuresPerIpPerMin: int(env, 'AUTH_FAILURES_PER_IP_PER_MIN', 30, 0, 10_000_000),
      authFailuresPerInstancePerMin: int(env, 'AUTH_FAILURES_PER_INSTANCE_PER_MIN', 60, 0, 10_000_000),
      chatsPerIpPerMin: int(env, 'CHAT_RATE_PER_IP_PER_MIN', 0, 0, 100_000_000),
      chatsPerInstancePerMin: int(env, 'CHAT_RATE_PER_INSTANCE_PER_MIN', 0, 0, 100_000_000),
      registrationsPerIpPerMin: int(env, 'REGISTER_PER_IP_PER_MIN', 60, 0, 100_000_000),
      chatsInFlightPerNode: int(env, 'CHAT_MAX_IN_FLIGHT', 10_000, 0, 10_000_000),
      chatsInFlightPerIp: int(env, 'CHAT_MAX_IN_FLIGHT_PER_IP', 1_000, 0, 10_000_000),
      bufferedBytesPerNode: int(env, 'NODE_MAX_BUFFERED_BYTES', 256 * 1024 * 1024, 0, 64 * 1024 ** 3),
      requestBytesPerNode: int(env, 'NODE_MAX_REQUEST_BYTES', 256 * 1024 * 1024, 0, 64 * 1024 ** 3),
      requestBytesPerIp: int(env, 'CHAT_MAX_REQUEST_BYTES_PER_IP', 32 * 1024 * 1024, 0, 64 * 1024 ** 3),
      maxPageNo: int(env, 'LIST_MAX_PAGE_NO', 1_000, 1, 10_000_000),
    },
    ws: {
      maxPayloadBytes: int(env, 'WS_MAX_PAYLOAD_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
      binaryChunks: bool(env, 'WS_BINARY_CHUNKS', true),
      pingIntervalMs: int(env, 'WS_PING_INTERVAL_MS', 15_000, 100, 600_000),
      handshakeTimeoutMs: int(env, 'WS_HANDSHAKE_TIMEOUT_MS', 10_000, 100, 120_000),
      maxSendBufferBytes: int(
        env,
        'WS_MAX_SEND_BUFFER_BYTES',
        16 * 1024 * 1024,
        64 * 1024,
        1024 * 1024 * 1024,
      ),
      maxFramesPerSec: int(env, 'WS_MAX_FRAMES_PER_SEC', 200_000, 0, 100_000_000),
      maxBytesPerSec: int(env, 'WS_MAX_BYTES_PER_SEC', 256 * 1024 * 1024, 0, 64 * 1024 * 1024 * 1024),
      maxBadFrames: int(env, 'WS_MAX_BAD_FRAMES', 100, 0, 1_000_000_000),
    },
    presence: {
      ttlMs: presenceTtlMs,
      refreshMs: int(env, 'PRESENCE_REFRESH_MS', Math.round(presenceTtlMs / 3), 100, 600_000),
      flushMs: int(env, 'HEARTBEAT_FLUSH_MS', 5_000, 50, 600_000),
    },
    chat: {
      firstChunkTimeoutMs: int(env, 'CHAT_FIRST_CHUNK_TIMEOUT_MS', 120_000, 100, 3_600_000),
      idleTimeoutMs: int(env, 'CHAT_IDLE_TIMEOUT_MS', 60_000, 100, 3_600_000),
      totalTimeoutMs: int(env, 'CHAT_TOTAL_TIMEOUT_MS', 600_000, 100, 24 * 3_600_000),
      keepaliveMs: int(env, 'CHAT_KEEPALIVE_MS', 15_000, 50, 600_000),
      queueLimit: int(env, 'CHAT_QUEUE_LIMIT', 512, 0, 100_000),
      holdMs: int(env, 'CHAT_HOLD_MS', 10_000, 0, 600_000),
      holdLimit: int(env, 'CHAT_HOLD_LIMIT', 512, 1, 1_000_000),
      holdNodeLimit: int(env, 'CHAT_HOLD_NODE_LIMIT', 1_024, 1, 10_000_000),
      holdRecentMs: int(env, 'CHAT_HOLD_RECENT_MS', 600_000, 0, 30 * 24 * 3_600_000),
      maxBufferedBytes: int(env, 'CHAT_MAX_BUFFERED_BYTES', 4 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
      maxAssembledBytes: int(env, 'CHAT_MAX_ASSEMBLED_BYTES', 4 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
      instanceCacheMs: int(env, 'CHAT_INSTANCE_CACHE_MS', 2_000, 0, 600_000),
    },
    keys: {
      cacheMs: int(env, 'KEY_CACHE_MS', 30_000, 0, 600_000),
      maxPerInstance: int(env, 'KEYS_PER_INSTANCE', 100, 1, 100_000),
      tokenLease: int(env, 'KEY_TOKEN_LEASE', 32, 1, 1_000_000),
      maxStoredPerInstance: int(env, 'KEYS_STORED_PER_INSTANCE', 1_000, 1, 1_000_000),
      createsPerHour: int(env, 'KEY_CREATES_PER_HOUR', 60, 1, 1_000_000),
      retentionDays: int(env, 'KEY_RETENTION_DAYS', 30, 1, 36_500),
    },
    usage: {
      flushMs: int(env, 'USAGE_FLUSH_MS', 2_000, 50, 60_000),
      retentionDays: int(env, 'USAGE_RETENTION_DAYS', 400, 1, 36_500),
    },
  };
  if (config.redisUrl && config.redisClusterNodes)
    throw invalid('REDIS_CLUSTER_NODES', 'and REDIS_URL are both set; set one: a Redis Cluster or one Redis');
  if (config.keys.maxStoredPerInstance < config.keys.maxPerInstance)
    throw invalid('KEYS_STORED_PER_INSTANCE', 'must be at least KEYS_PER_INSTANCE');
  if (config.presence.refreshMs >= config.presence.ttlMs)
    throw invalid('PRESENCE_REFRESH_MS', 'must be smaller than PRESENCE_TTL_MS');
  return config;
}

/** Distributed mode: one Redis or a Redis Cluster holds presence and carries node messages. */
export const isDistributed = (config: AppConfig): boolean =>
  Boolean(config.redisUrl || config.redisClusterNodes);

/** Nest injection token for AppConfig. */
export const APP_CONFIG = Symbol('APP_CONFIG');
