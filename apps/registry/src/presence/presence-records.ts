import { isModelStatus, MODEL_STATUS_DETAIL_CHARS, printable } from '@app/protocol';
import type { PresenceOwner, ReplicaRecord, ReplicaState } from './presence.store';

/** Owner record value: `<nodeId>|<epoch>`. Node ids may contain `|`: the epoch is after the last one. */
export function formatOwnerRecord(owner: PresenceOwner): string {
  return `${owner.nodeId}|${owner.epoch}`;
}

export function parseOwnerRecord(value: string | null | undefined): PresenceOwner | null {
  if (!value) return null;
  const bar = value.lastIndexOf('|');
  if (bar <= 0) return null;
  const digits = value.slice(bar + 1);
  if (!/^[1-9]\d*$/.test(digits)) return null;
  const epoch = Number(digits);
  if (!Number.isSafeInteger(epoch)) return null;
  return { nodeId: value.slice(0, bar), epoch };
}

/** The state JSON of a replica entry (short keys: one per replica in every read). */
export const encodeReplicaState = (nodeId: string, s: ReplicaState): string =>
  JSON.stringify({
    n: nodeId,
    c: s.capacity,
    f: s.inFlight,
    t: s.connectedAt,
    d: s.draining ? 1 : 0,
    // Only once its agent reported: a stock host's entry stays as it was.
    ...(s.modelStatus && { m: s.modelStatus, md: s.modelDetail ?? undefined }),
  });

/** `<epoch>|<state JSON>` of one replica entry; null when it cannot be read (never trusted blindly). */
export function parseReplicaEntry(instanceId: string, replica: string, value: string): ReplicaRecord | null {
  const bar = value.indexOf('|');
  const epoch = Number(value.slice(0, bar));
  if (bar <= 0 || !Number.isSafeInteger(epoch) || epoch < 1) return null;
  let state: { n?: unknown; c?: unknown; f?: unknown; t?: unknown; d?: unknown; m?: unknown; md?: unknown };
  try {
    state = JSON.parse(value.slice(bar + 1)) as typeof state;
  } catch {
    return null;
  }
  if (typeof state.n !== 'string' || state.n === '') return null;
  const count = (v: unknown, min: number) =>
    typeof v === 'number' && Number.isFinite(v) ? Math.max(min, v) : min;
  return {
    instanceId,
    replica,
    nodeId: state.n,
    epoch,
    capacity: count(state.c, 1),
    inFlight: count(state.f, 0),
    connectedAt: count(state.t, 0),
    draining: state.d === 1,
    // Only a replica whose agent reported one has a model status (absent: unknown, routed to).
    ...(isModelStatus(state.m) && {
      modelStatus: state.m,
      modelDetail: typeof state.md === 'string' ? printable(state.md, MODEL_STATUS_DETAIL_CHARS) : null,
    }),
  };
}
