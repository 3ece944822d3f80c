import type { BroadcastTopic, NodeReplyMessage, NodeRequestMessage } from '@app/protocol';
import { LocalClusterBus } from '../../apps/registry/src/cluster/local-cluster-bus';

/**
 * A node's bus in a cluster that exists only in the test: what this node sends is recorded, not
 * delivered; `deliver` hands it a request "from another node". Nodes in `deadNodes` listen to
 * nothing (a send to them reaches nobody, `isNodeAlive` says no); every other node is alive.
 */
export class RecordingBus extends LocalClusterBus {
  readonly sent: Array<{ to: string; message: NodeRequestMessage }> = [];
  readonly replies: Array<{ to: string; message: NodeReplyMessage }> = [];
  readonly deadNodes = new Set<string>();
  readonly broadcasts: Array<{ topic: BroadcastTopic; message: object }> = [];

  constructor(nodeId = 'me') {
    super(nodeId);
  }

  override async sendRequest(to: string, message: NodeRequestMessage) {
    this.sent.push({ to, message });
    return !this.deadNodes.has(to);
  }

  override async sendReply(to: string, message: NodeReplyMessage) {
    this.replies.push({ to, message });
    return !this.deadNodes.has(to);
  }

  override async isNodeAlive(nodeId: string) {
    return !this.deadNodes.has(nodeId);
  }

  override async broadcast(...[topic, message]: [BroadcastTopic?, object?]) {
    if (topic && message) this.broadcasts.push({ topic, message });
  }

  /** This node's channels are subscribed again after a drop (`onReconnect` handlers run). */
  reconnected(): void {
    for (const handler of this.reconnectHandlers) handler();
  }

  /** Another node's broadcast arrives here. */
  receiveBroadcast(topic: BroadcastTopic, message: Record<string, unknown>, from: string): void {
    this.deliverBroadcast(topic, message, from);
  }

  /** This node's subscription dropped and is back: broadcasts may have been missed. */
  broadcastGap(): void {
    for (const handler of this.broadcastGapHandlers) handler();
  }

  /** A request from another node arrives here. */
  deliver(message: NodeRequestMessage): void {
    this.deliverRequest(message);
  }
}
