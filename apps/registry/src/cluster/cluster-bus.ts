import type { NodeReplyMessage, NodeRequestMessage } from '@app/protocol';

/**
 * Messages between registry nodes: one request channel and one reply channel per node.
 * Embedded mode has a single node and uses LocalClusterBus; distributed mode uses Redis pub/sub.
 */
export abstract class ClusterBus {
  abstract readonly nodeId: string;
  /** False while this node cannot both receive and send node messages (e.g. Redis is restarting). */
  abstract readonly connected: boolean;
  /** Resolves false when no node is listening on that channel (PUBLISH returned 0) or Redis is unreachable. */
  abstract sendRequest(nodeId: string, message: NodeRequestMessage): Promise<boolean>;
  abstract sendReply(nodeId: string, message: NodeReplyMessage): Promise<boolean>;
  abstract onRequest(handler: (message: NodeRequestMessage) => void): void;
  abstract onReply(handler: (message: NodeReplyMessage) => void): void;
  /** Called when the bus lost its subscription (e.g. Redis restarted); in-flight cross-node requests must fail. */
  abstract onDisconnect(handler: () => void): void;
  /** Whether a node still listens on its request channel (a SIGKILLed node stops at once). */
  abstract isNodeAlive(nodeId: string): Promise<boolean>;
  abstract close(): Promise<void>;
}
