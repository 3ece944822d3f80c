import type { NodeReplyMessage, NodeRequestMessage } from '@app/protocol';

export type NodeRequestKind = NodeRequestMessage['kind'];
export type NodeRequestOf<K extends NodeRequestKind> = Extract<NodeRequestMessage, { kind: K }>;

/** What a bus counted since the node started (read by the metrics collector). */
export interface ClusterBusStats {
  /** Messages received on our channels that were not valid JSON or not a message of the protocol (dropped, or failing the request they name). */
  malformed: number;
  /** PUBLISH calls that failed (Redis down, timeout). */
  publishFailures: number;
  /** PUBLISH calls that reached no subscriber (the target node is gone). */
  undelivered: number;
  /** Exceptions thrown by our own handlers (logged, never allowed to reach the transport). */
  handlerErrors: number;
}

/**
 * Messages between registry nodes: one request channel and one reply channel per node.
 * Embedded mode has a single node and uses LocalClusterBus; distributed mode uses Redis pub/sub.
 * Each capability registers the request kinds it handles (`handle`); a kind nobody handles is dropped.
 */
export abstract class ClusterBus {
  abstract readonly nodeId: string;
  /** False while this node cannot both receive and send node messages (e.g. Redis is restarting). */
  abstract readonly connected: boolean;
  abstract readonly stats: Readonly<ClusterBusStats>;
  private readonly requestHandlers: { [K in NodeRequestKind]?: (message: NodeRequestOf<K>) => void } = {};

  /** Resolves false when no node is listening on that channel (PUBLISH returned 0) or Redis is unreachable. */
  abstract sendRequest(nodeId: string, message: NodeRequestMessage): Promise<boolean>;
  abstract sendReply(nodeId: string, message: NodeReplyMessage): Promise<boolean>;
  abstract onReply(handler: (message: NodeReplyMessage) => void): void;
  /** Called when the bus lost its subscription (e.g. Redis restarted); in-flight cross-node requests must fail. */
  abstract onDisconnect(handler: () => void): void;
  /** Whether a node still listens on its request channel (a SIGKILLed node stops at once). */
  abstract isNodeAlive(nodeId: string): Promise<boolean>;
  /**
   * Every node that announced itself, this one included (it announces itself again on each call,
   * so a Redis that lost the set relearns it); dead ones stay until `forgetNode`. Rejects when the
   * membership cannot be read.
   */
  abstract nodes(): Promise<string[]>;
  /** Drops a node that has been dead for long from the membership. */
  abstract forgetNode(nodeId: string): Promise<void>;
  abstract close(): Promise<void>;

  /** Routes requests of `kind` that reach this node to `handler` (one handler per kind). */
  handle<K extends NodeRequestKind>(kind: K, handler: (message: NodeRequestOf<K>) => void): void {
    (this.requestHandlers as Record<K, (message: NodeRequestOf<K>) => void>)[kind] = handler;
  }

  /** For implementations: a decoded request arrived for this node. */
  protected deliverRequest(message: NodeRequestMessage): void {
    const handler = this.requestHandlers[message.kind] as ((m: NodeRequestMessage) => void) | undefined;
    handler?.(message);
  }
}
