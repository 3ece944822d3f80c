import type { InstanceStatus } from '@app/contracts';

/**
 * The one place status is derived. `online` is never stored: it is whether a host socket is
 * held somewhere in the cluster right now (presence). The rest follows from the record.
 */
export function deriveStatus(
  record: { firstConnectedAt: Date | null; deletedAt: Date | null },
  online: boolean,
): InstanceStatus {
  if (record.deletedAt) return 'unregistered';
  if (online) return 'online';
  return record.firstConnectedAt ? 'offline' : 'registered';
}
