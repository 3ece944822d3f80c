import { Injectable } from '@nestjs/common';
import { EventEmitter } from 'node:events';

/** Events other capabilities react to (typed name → payload map). */
export interface InstanceEventMap {
  /** An instance was deleted: disconnect its host, forget cached existence. */
  deleted: { instanceId: string };
  /** Its password changed (re-registration): disconnect hosts that authenticated with the old one. */
  rotated: { instanceId: string; passwordHash: Uint8Array };
  /** Visibility or owner policy changed: forget cached access rules (on every node). */
  accessChanged: { instanceId: string; relayed?: boolean };
  /** Registered or its listed fields changed on this node: the directory's answers are stale. */
  listed: { instanceId: string };
  /** This node started or stopped holding a host of the instance (its `instance_holders` row). */
  holdersChanged: { instanceId: string };
}

@Injectable()
export class InstanceEvents {
  private readonly emitter = new EventEmitter();

  emit<K extends keyof InstanceEventMap>(name: K, payload: InstanceEventMap[K]): void {
    this.emitter.emit(name, payload);
  }

  on<K extends keyof InstanceEventMap>(
    name: K,
    listener: (payload: InstanceEventMap[K]) => void,
  ): () => void {
    this.emitter.on(name, listener);
    return () => this.emitter.off(name, listener);
  }
}
