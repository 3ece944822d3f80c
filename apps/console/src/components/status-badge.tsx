import type { InstanceStatus } from '../api';

const HINT: Record<InstanceStatus, string> = {
  online: 'a host is connected: chats are served',
  offline: 'no host connected right now',
  registered: 'no host has connected yet',
  unregistered: 'deleted',
};

/** The words the directory's filter uses too ("Never connected"), not the API's names. */
const LABEL: Record<InstanceStatus, string> = {
  online: 'online',
  offline: 'offline',
  registered: 'never connected',
  unregistered: 'deleted',
};

/** The status as a word (never colour alone), with what it means for a caller. */
export function StatusBadge({ status }: { status: InstanceStatus }) {
  return (
    <span class={`badge badge-${status}`} title={HINT[status]} data-status={status}>
      {LABEL[status]}
    </span>
  );
}
