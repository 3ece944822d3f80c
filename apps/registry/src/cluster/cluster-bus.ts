import type { BroadcastTopic, NodeReplyMessage, NodeRequestMessage } from '@app/protocol';

export type NodeRequestKind = NodeRequestMessage['kind'];
export type NodeRequestOf<K extends NodeRequestKind> = Extract<NodeRequestMessage, { kind: K }>;

/** Receives a broadcast of another node: its fields as sent (unchecked: decode them) and its sender. */
export type BroadcastHandler = (message: Readonly<Record<string, unknown>>, from: string) => void;

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
 * Messages between registry nodes, the only way to them: one request channel and one reply channel
 * per node, and broadcasts by topic to every other node. Embedded mode has a single node and uses
 * LocalClusterBus; distributed mode uses Redis pub/sub. Each capability registers the request kinds
 * (`handle`) and broadcast topics (`onBroadcast`) it handles; what nobody handles is dropped.
 */
export abstract class ClusterBus {
  abstract readonly nodeId: string;
  /** False while this node cannot both receive and send node messages (e.g. Redis is restarting). */
  abstract readonly connected: boolean;
  abstract readonly stats: Readonly<ClusterBusStats>;
  private readonly requestHandlers: { [K in NodeRequestKind]?: (message: NodeRequestOf<K>) => void } = {};
  private readonly broadcastHandlers: { [T in BroadcastTopic]?: BroadcastHandler } = {};
  /** Run when broadcasts may have been missed (the subscription dropped and is back). */
  protected readonly broadcastGapHandlers: (() => void)[] = [];
  protected readonly reconnectHandlers: (() => void)[] = [];

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
  /**
   * Sends `message` (a JSON object; the bus adds `from`) to every other node listening on `topic`.
   * Never to this node, which has applied the change itself; in embedded mode there is nobody to
   * tell. At most once: rejects when it could not be sent; a node whose subscription is down
   * misses it (see `onBroadcastGap`).
   */
  abstract broadcast(topic: BroadcastTopic, message: object): Promise<void>;
  /** Resolves when the transport between nodes answers (Redis PING; at once in embedded mode). */
  abstract ping(): Promise<void>;
  abstract close(): Promise<void>;

  /** Routes requests of `kind` that reach this node to `handler` (one handler per kind). */
  handle<K extends NodeRequestKind>(kind: K, handler: (message: NodeRequestOf<K>) => void): void {
    (this.requestHandlers as Record<K, (message: NodeRequestOf<K>) => void>)[kind] = handler;
  }

  /** Routes other nodes' broadcasts on `topic` to `handler` (one handler per topic). */
  onBroadcast(topic: BroadcastTopic, handler: BroadcastHandler): void {
    this.broadcastHandlers[topic] = handler;
  }

  /**
   * Runs `handler` each time this node's own channels are subscribed again after a drop (the
   * `onDisconnect` that came before it): from now on it can send cross-node chats and get their answers.
   */
  onReconnect(handler: () => void): void {
    this.reconnectHandlers.push(handler);
  }

  /** Runs `handler` each time the bus's subscriber is back after a drop: what was broadcast meanwhile is lost. */
  onBroadcastGap(handler: () => void): void {
    this.broadcastGapHandlers.push(handler);
  }

  /** For implementations: a broadcast arrived; this node's own are dropped. */
  protected deliverBroadcast(
    topic: BroadcastTopic,
    message: Readonly<Record<string, unknown>>,
    from: string,
  ): void {
    if (from !== this.nodeId) this.broadcastHandlers[topic]?.(message, from);
  }

  /** For implementations: a decoded request arrived for this node. */
  protected deliverRequest(message: NodeRequestMessage): void {
    const handler = this.requestHandlers[message.kind] as ((m: NodeRequestMessage) => void) | undefined;
    handler?.(message);
  }
}
