import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { CapturedBody } from '@app/contracts';
import type { NodeRequestMessage } from '@app/protocol';
import { ClusterBus } from '../cluster/cluster-bus';
import { LiveNodes } from '../cluster/live-nodes';
import { BodyCapture } from './body-capture';
import { INSPECT_TIMEOUT_MS } from './cluster-requests';

/** Lookups in flight on this node at most. */
const MAX_PENDING = 1_000;

const isText = (v: unknown) => typeof v === 'string';

/** Another node's answer, with only the known fields; null if one is wrong. */
export function decodeCapturedBody(value: unknown): CapturedBody | null {
  if (typeof value !== 'object' || value === null) return null;
  const { request, request_truncated, response, response_truncated } = value as Record<string, unknown>;
  if (!isText(request) || !isText(response)) return null;
  if (typeof request_truncated !== 'boolean' || typeof response_truncated !== 'boolean') return null;
  return { request, request_truncated, response, response_truncated } as CapturedBody;
}

/**
 * One request's captured bodies, wherever they are: this node's, or asked of every other live node
 * at once (`body-of`, answered by `body`); the node that took the request is the one that has them.
 */
@Injectable()
export class ClusterBodies implements OnModuleInit {
  private readonly logger = new Logger('Inspector');
  private readonly pending = new Map<string, (body: CapturedBody | null) => void>();

  constructor(
    private readonly bus: ClusterBus,
    private readonly nodes: LiveNodes,
    private readonly capture: BodyCapture,
  ) {}

  onModuleInit(): void {
    this.bus.handle('body-of', (message) => {
      const reply: NodeRequestMessage = {
        kind: 'body',
        requestId: message.requestId,
        from: this.bus.nodeId,
        instanceId: message.instanceId,
        body: this.capture.body(message.instanceId, message.id),
      };
      this.bus.sendRequest(message.from, reply).catch((error: Error) => {
        this.logger.warn(`could not answer ${message.from}'s body lookup: ${error.message}`);
      });
    });
    this.bus.handle('body', (message) =>
      this.pending.get(message.requestId)?.(decodeCapturedBody(message.body)),
    );
  }

  async find(instanceId: string, id: string): Promise<CapturedBody | null> {
    const own = this.capture.body(instanceId, id);
    if (own) return own;
    const others = [...this.nodes.current].filter((node) => node !== this.bus.nodeId);
    const answers = await Promise.all(others.map((node) => this.ask(node, instanceId, id)));
    return answers.find((body) => body !== null) ?? null;
  }

  private ask(node: string, instanceId: string, id: string): Promise<CapturedBody | null> {
    if (this.pending.size >= MAX_PENDING) return Promise.resolve(null);
    const requestId = randomUUID();
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(null), INSPECT_TIMEOUT_MS);
      const finish = (body: CapturedBody | null) => {
        clearTimeout(timer);
        this.pending.delete(requestId);
        resolve(body);
      };
      this.pending.set(requestId, finish);
      const message: NodeRequestMessage = {
        kind: 'body-of',
        requestId,
        from: this.bus.nodeId,
        instanceId,
        id,
      };
      this.bus.sendRequest(node, message).then(
        (sent) => sent || finish(null),
        () => finish(null),
      );
    });
  }
}
