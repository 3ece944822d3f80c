import type { HostConnection } from './host-connection';

/** What one host socket may cost the node (WS_MAX_* settings). */
export interface HostSocketLimits {
  maxSendBufferBytes: number;
  maxFramesPerSec: number;
  maxBytesPerSec: number;
  /** 0 = no limit. */
  maxBadFrames: number;
}

/** For tests of logic that is not about limits. */
export const NO_SOCKET_LIMITS: HostSocketLimits = {
  maxSendBufferBytes: Infinity,
  maxFramesPerSec: 0,
  maxBytesPerSec: 0,
  maxBadFrames: 0,
};

export interface HostConnectionEvents {
  heartbeat(connection: HostConnection): void;
  /** Its load (chats running or queued) or capacity changed. */
  load?(connection: HostConnection): void;
  hello(connection: HostConnection): void;
  /** Its model's status or the host's words about it changed (`model_status`, health hosts only). */
  modelStatus?(connection: HostConnection): void;
  malformed(): void;
  closed(connection: HostConnection, code: number): void;
}
