/** One replica a chat could go to, as routing weighs it. */
export interface Candidate {
  /** `<nodeId>|<slot>|<epoch>`: one connection, so a reconnected replica is a new candidate. */
  key: string;
  /** On this node (no hop between nodes). */
  local: boolean;
  capacity: number;
  /** Chats running on it or queued for it, as best known. */
  load: number;
}

export const candidateKey = (nodeId: string, slot: string, epoch: number) => `${nodeId}|${slot}|${epoch}`;

/**
 * The routing rule: the replica with the most free capacity (capacity − load); ties go to a
 * replica on this node, then at random. When every replica is full, the one where a new chat
 * waits least (fewest queued per unit of capacity). Pure, for unit tests.
 */
export function chooseReplica<C extends Candidate>(candidates: readonly C[], random = Math.random): C | null {
  if (candidates.length <= 1) return candidates[0] ?? null;
  let best: C[] = [];
  let bestScore = -Infinity;
  for (const candidate of candidates) {
    const free = candidate.capacity - candidate.load;
    const score = free > 0 ? free : (free - 1) / candidate.capacity;
    if (score > bestScore) {
      bestScore = score;
      best = [candidate];
    } else if (score === bestScore) best.push(candidate);
  }
  const local = best.filter((c) => c.local);
  const pool = local.length > 0 ? local : best;
  return pool[Math.floor(random() * pool.length)] ?? pool[0];
}
