import type { NodeReplyMessage, NodeRequestMessage } from '@app/protocol';
import { ClusterBus, type ClusterBusStats } from './cluster-bus';

/**
 * Embedded mode: the only node is this one, so messages to it are delivered in-process, and a
 * broadcast (meant for the other nodes) reaches nobody.
 */
export class LocalClusterBus extends ClusterBus {
  readonly connected = true;
  /** Nothing travels over a network here, so nothing can fail on the way. */
  readonly stats: Readonly<ClusterBusStats> = {
    malformed: 0,
    publishFailures: 0,
    undelivered: 0,
    handlerErrors: 0,
  };
  private replyHandler: (message: NodeReplyMessage) => void = () => undefined;

  constructor(readonly nodeId: string) {
    super();
  }

  async sendRequest(nodeId: string, message: NodeRequestMessage) {
    if (nodeId !== this.nodeId) return false;
    queueMicrotask(() => this.deliverRequest(message));
    return true;
  }

  async sendReply(nodeId: string, message: NodeReplyMessage) {
    if (nodeId !== this.nodeId) return false;
    queueMicrotask(() => this.replyHandler(message));
    return true;
  }

  onReply(handler: (message: NodeReplyMessage) => void) {
    this.replyHandler = handler;
  }

  onDisconnect() {}

  async isNodeAlive(nodeId: string) {
    return nodeId === this.nodeId;
  }

  async nodes() {
    return [this.nodeId];
  }

  async forgetNode() {}

  async broadcast() {}

  async ping() {}

  async close() {}
}
