/**
 * Messages between registry nodes over Redis pub/sub (distributed mode only).
 * One request channel and one reply channel per node; never one subscription per request.
 */
import type { ChatFailureCode } from './failure-codes';
import type { HttpTarget } from './http-frames';

export const channelNames = (prefix: string) => ({
  requests: (nodeId: string) => `${prefix}:node:${nodeId}:req`,
  replies: (nodeId: string) => `${prefix}:node:${nodeId}:rep`,
});

/** Redis Cluster (sharded pub/sub): a node's two channels share one hash tag, so one shard holds both. */
export const shardedChannelNames = (prefix: string) => ({
  requests: (nodeId: string) => `{${prefix}:node:${nodeId}}:req`,
  replies: (nodeId: string) => `{${prefix}:node:${nodeId}}:rep`,
});

/**
 * Broadcasts: one classic pub/sub channel per topic (`<prefix>:<topic>`, PUBLISH and SUBSCRIBE also
 * in a Redis Cluster, which delivers them on every shard) that every node subscribes to. A message
 * is a JSON object naming its sender in `from`; a node ignores its own.
 * - `access`: `{kind: "key_revoked", hash}` or `{kind: "instance_changed", instanceId}`;
 * - `replicas`: the load gossip, `{u: [[instanceId, replica, epoch, capacity, inFlight, state], ...]}`;
 * - `node-stats`: a node's own figures for the cluster view, once a second;
 * - `capture`: `{instanceId, until}`, the owner turned body capture on until `until` (ms since the
 *   epoch) or off (`until: 0`).
 */
export const BROADCAST_TOPICS = ['access', 'replicas', 'node-stats', 'capture'] as const;
export type BroadcastTopic = (typeof BROADCAST_TOPICS)[number];

export const broadcastChannel = (prefix: string, topic: BroadcastTopic): string => `${prefix}:${topic}`;

/** Sent to the node that owns the host socket. */
export type NodeRequestMessage =
  | {
      kind: 'chat';
      requestId: string;
      /** Node that holds the caller and waits for the replies. */
      from: string;
      instanceId: string;
      /** The replica chosen (absent: the unnamed one, as nodes before replicas sent). */
      replica?: string;
      /** Epoch of the replica's connection the sender believes is current. */
      epoch: number;
      body: unknown;
      /** Another endpoint than chat (see http-frames.ts); absent: a chat. */
      http?: HttpTarget;
    }
  | {
      kind: 'cancel';
      requestId: string;
      from: string;
      instanceId: string;
      replica?: string;
      epoch: number;
    }
  /**
   * Close the host socket of the replica if its epoch is older than `epoch` (superseded), or every
   * socket of `instanceId` if it was deleted, or those holding the old password if it was rotated.
   */
  | {
      kind: 'evict';
      from: string;
      instanceId: string;
      replica?: string;
      epoch: number;
      reason: 'superseded' | 'deleted' | 'rotated';
    }
  /** The owner's inspector asks a node for the instance's recent requests (answered by `inspected`). */
  | {
      kind: 'inspect';
      requestId: string;
      from: string;
      instanceId: string;
      /** Only requests that ended at or after this (ms since the epoch). */
      since: number;
      /** At most this many, newest first. */
      limit: number;
      /** A status class or outcome (`RequestFilter`), and a key id; absent: any. */
      status?: string;
      keyId?: string;
    }
  /** A node's answer to `inspect`, sent to the asking node's request channel (rows: `RecordedRequest`). */
  | {
      kind: 'inspected';
      requestId: string;
      from: string;
      instanceId: string;
      rows: unknown[];
    }
  /** The owner's inspector asks a node for one request's captured bodies (answered by `body`). */
  | { kind: 'body-of'; requestId: string; from: string; instanceId: string; id: string }
  /** A node's answer to `body-of`: the bodies (`CapturedBody`), or null when it holds none. */
  | { kind: 'body'; requestId: string; from: string; instanceId: string; body: unknown };

/** Sent back to the caller's node; `seq` starts at 0 and increases by one per message of a request. */
export type NodeReplyMessage =
  /** `done: true` on the last chunks of an answer saves a separate `done` message. */
  | { kind: 'chunks'; requestId: string; seq: number; lines: string[]; done?: boolean }
  /**
   * Whole SSE events as bytes (from binary chunk frames): over Redis a binary message (see
   * `encodeEventsReply`), never JSON, so neither node parses or re-encodes them.
   */
  | { kind: 'events'; requestId: string; seq: number; events: Buffer; done?: boolean }
  | { kind: 'done'; requestId: string; seq: number }
  | { kind: 'error'; requestId: string; seq: number; message: string; code: ChatFailureCode };
