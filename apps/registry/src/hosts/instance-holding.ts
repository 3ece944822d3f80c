import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { InstanceEvents } from '../instances/instance-events';
import { InstanceHoldersRepository } from '../instances/instance-holders.repository';

/** What this node's row of an instance says. */
export interface HoldingState {
  holds: boolean;
  /** Every replica of it held here reports its model down (the directory says "model unreachable"). */
  modelDown: boolean;
}

/**
 * Keeps this node's rows of `instance_holders` in step with the host sockets it holds: a row is
 * written before the presence claim (so whoever sees the instance online in presence finds it in
 * the directory too) and deleted when the node's last socket of the instance is gone. Writes of
 * one instance run one after the other, and each writes the state of that moment, so a quick
 * disconnect-reconnect can never leave the row missing. A failed write is logged; the periodic
 * `resync` repairs it.
 */
@Injectable()
export class InstanceHolding {
  private readonly logger = new Logger('InstanceHolding');
  private readonly chains = new Map<string, Promise<void>>();
  /** Instances with a write queued that has not started: another update joins it. */
  private readonly queued = new Set<string>();

  constructor(
    private readonly holders: InstanceHoldersRepository,
    private readonly events: InstanceEvents,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Writes whether this node holds the instance, and whether every model it holds of it is down
   * (`state()` is asked when the write's turn comes).
   */
  update(instanceId: string, state: () => HoldingState): Promise<void> {
    const previous = this.chains.get(instanceId);
    if (previous && this.queued.has(instanceId)) return previous;
    this.queued.add(instanceId);
    const next = (previous ?? Promise.resolve()).then(() => {
      this.queued.delete(instanceId);
      return this.write(instanceId, state());
    });
    this.chains.set(instanceId, next);
    void next.finally(() => {
      if (this.chains.get(instanceId) === next) this.chains.delete(instanceId);
    });
    return next;
  }

  /** Makes this node's rows exactly `instanceIds`; false when the database could not be written. */
  async resync(instanceIds: string[]): Promise<boolean> {
    try {
      await this.holders.resync(this.config.nodeId, instanceIds);
      return true;
    } catch (error) {
      this.logger.warn(`could not resync the instances this node holds: ${(error as Error).message}`);
      return false;
    }
  }

  /** Rows a dead (or earlier) incarnation of a node left. */
  async purge(nodeId: string): Promise<void> {
    await this.holders
      .purgeNode(nodeId)
      .catch((error: Error) =>
        this.logger.warn(`could not purge the rows of node ${nodeId}: ${error.message}`),
      );
  }

  private async write(instanceId: string, { holds, modelDown }: HoldingState): Promise<void> {
    try {
      if (holds) await this.holders.hold(instanceId, this.config.nodeId, modelDown);
      else await this.holders.release(instanceId, this.config.nodeId);
      this.events.emit('holdersChanged', { instanceId });
    } catch (error) {
      this.logger.warn(
        `could not record that this node ${holds ? 'holds' : 'left'} ${instanceId}: ${(error as Error).message}`,
      );
    }
  }
}
