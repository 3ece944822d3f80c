import type { NodeReplyMessage, NodeRequestMessage } from '@app/protocol';
import { ClusterBus } from './cluster-bus';

/** Embedded mode: the only node is this one, so messages to it are delivered in-process. */
export class LocalClusterBus extends ClusterBus {
  readonly connected = true;
  private requestHandler: (message: NodeRequestMessage) => void = () => undefined;
  private replyHandler: (message: NodeReplyMessage) => void = () => undefined;

  constructor(readonly nodeId: string) {
    super();
  }

  async sendRequest(nodeId: string, message: NodeRequestMessage) {
    if (nodeId !== this.nodeId) return false;
    queueMicrotask(() => this.requestHandler(message));
    return true;
  }

  async sendReply(nodeId: string, message: NodeReplyMessage) {
    if (nodeId !== this.nodeId) return false;
    queueMicrotask(() => this.replyHandler(message));
    return true;
  }

  onRequest(handler: (message: NodeRequestMessage) => void) {
    this.requestHandler = handler;
  }

  onReply(handler: (message: NodeReplyMessage) => void) {
    this.replyHandler = handler;
  }

  onDisconnect() {}

  async isNodeAlive(nodeId: string) {
    return nodeId === this.nodeId;
  }

  async close() {}
}
