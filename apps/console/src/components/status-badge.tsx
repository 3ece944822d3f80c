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

/**
 * The status as a word (never colour alone), with what it means for a caller. Online with no
 * replica whose model answers (`model_reachable: false`) reads "online — model unreachable".
 */
export function StatusBadge({
  status,
  modelReachable,
}: {
  status: InstanceStatus;
  modelReachable?: boolean | null;
}) {
  if (status === 'online' && modelReachable === false)
    return (
      <span
        class="badge badge-model-down"
        title="a host is connected, but its model server does not answer: chats get 503 model_unreachable until it does"
        data-status={status}
        data-model="unreachable"
      >
        online — model unreachable
      </span>
    );
  return (
    <span class={`badge badge-${status}`} title={HINT[status]} data-status={status}>
      {LABEL[status]}
    </span>
  );
}
