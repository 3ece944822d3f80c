import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { REQUEST_FILTERS, type RecordedRequest, type RequestFilter } from '@app/contracts';
import type { NodeRequestMessage } from '@app/protocol';
import { ClusterBus } from '../cluster/cluster-bus';
import { LiveNodes } from '../cluster/live-nodes';
import { BodyCapture } from './body-capture';
import { NodeRequestLog } from './node-request-log';
import type { RequestQuery } from './request-log';
import { decodeRecordedRequest } from './recorded-request';

/**
 * How long the inspector waits for the other nodes: a live node answers from memory in a few ms
 * (one PUBLISH each way), so one that has not after a second is skipped and named in the answer.
 */
export const INSPECT_TIMEOUT_MS = 1_000;
/** Inspections in flight on this node at most (each waits for every other node). */
const MAX_PENDING = 1_000;

interface Pending {
  resolve: (rows: RecordedRequest[] | null) => void;
  limit: number;
}

export interface GatheredRequests {
  rows: RecordedRequest[];
  asked: number;
  skipped: string[];
}

const isFilter = (value: string | undefined): value is RequestFilter | undefined =>
  value === undefined || (REQUEST_FILTERS as readonly string[]).includes(value);

/**
 * An instance's recent requests from every node, asked for when the owner looks (never pushed):
 * this node's own log, plus one `inspect` request to each other live node over the cluster bus,
 * each answered by one `inspected` message with that node's rows, already filtered and cut to
 * the limit there.
 */
@Injectable()
export class ClusterRequests implements OnModuleInit {
  private readonly logger = new Logger('Inspector');
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly bus: ClusterBus,
    private readonly nodes: LiveNodes,
    private readonly log: NodeRequestLog,
    private readonly capture: BodyCapture,
  ) {}

  /** This node's rows, those whose bodies it holds marked `captured`. */
  private own(instanceId: string, query: RequestQuery): RecordedRequest[] {
    const rows = this.log.query(instanceId, query);
    const holds = this.capture.holds(instanceId);
    return rows.map((row) => (holds(row.id) ? { ...row, captured: true } : row));
  }

  onModuleInit(): void {
    this.bus.handle('inspect', (message) => this.answer(message));
    this.bus.handle('inspected', (message) => {
      const pending = this.pending.get(message.requestId);
      if (!pending) return;
      const rows = message.rows.map(decodeRecordedRequest).filter((row) => row !== null);
      pending.resolve(rows.slice(0, pending.limit));
    });
  }

  async gather(instanceId: string, query: RequestQuery): Promise<GatheredRequests> {
    const others = [...this.nodes.current].filter((node) => node !== this.bus.nodeId);
    const answers = await Promise.all(others.map((node) => this.ask(node, instanceId, query)));
    const rows = this.own(instanceId, query);
    const skipped: string[] = [];
    answers.forEach((answer, i) => (answer === null ? skipped.push(others[i]) : rows.push(...answer)));
    rows.sort((a, b) => b.at - a.at);
    return { rows: rows.slice(0, query.limit), asked: others.length + 1, skipped };
  }

  /** One node's rows, or null if it did not answer in time (or could not be asked). */
  private ask(node: string, instanceId: string, query: RequestQuery): Promise<RecordedRequest[] | null> {
    if (this.pending.size >= MAX_PENDING) return Promise.resolve(null);
    const requestId = randomUUID();
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(null), INSPECT_TIMEOUT_MS);
      const finish = (rows: RecordedRequest[] | null) => {
        clearTimeout(timer);
        this.pending.delete(requestId);
        resolve(rows);
      };
      this.pending.set(requestId, { resolve: finish, limit: query.limit });
      const message: NodeRequestMessage = {
        kind: 'inspect',
        requestId,
        from: this.bus.nodeId,
        instanceId,
        since: query.since,
        limit: query.limit,
        ...(query.status && { status: query.status }),
        ...(query.keyId !== undefined && { keyId: query.keyId }),
      };
      this.bus.sendRequest(node, message).then(
        (sent) => sent || finish(null),
        () => finish(null),
      );
    });
  }

  private answer(message: Extract<NodeRequestMessage, { kind: 'inspect' }>): void {
    const { status, keyId } = message;
    const limit = Math.min(Math.max(message.limit, 0), 1_000);
    const rows = isFilter(status)
      ? this.own(message.instanceId, { since: message.since, limit, status, keyId })
      : [];
    const reply: NodeRequestMessage = {
      kind: 'inspected',
      requestId: message.requestId,
      from: this.bus.nodeId,
      instanceId: message.instanceId,
      rows,
    };
    this.bus.sendRequest(message.from, reply).then(
      (sent) => sent || this.logger.warn(`node ${message.from} left before its inspection was answered`),
      (error: Error) => this.logger.warn(`could not answer ${message.from}'s inspection: ${error.message}`),
    );
  }
}
