/**
 * The presence id of a replica: the instance id for the unnamed one (the key layout of before
 * replicas), `<instanceId>/<replica>` otherwise (`/` is in neither alphabet).
 */
export const replicaSlot = (instanceId: string, replica: string): string =>
  replica === '' ? instanceId : `${instanceId}/${replica}`;

/** The instance part of a presence id. */
export const slotInstance = (slot: string): string => {
  const slash = slot.indexOf('/');
  return slash < 0 ? slot : slot.slice(0, slash);
};
