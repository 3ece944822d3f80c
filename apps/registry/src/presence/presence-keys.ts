/** Buckets of presence keys in a Redis Cluster: 16 spreads them over up to 16 shards. */
export const CLUSTER_PRESENCE_BUCKETS = 16;

/**
 * Names of the presence keys. With one Redis (`buckets` 1): `P:epoch:<slot>`, `P:owner:<slot>` and
 * `P:reps:<id>` (a slot is an instance id, or `<id>/<replica>` for a named replica). In a Redis
 * Cluster every instance falls in one of `buckets` buckets, each under its own hash tag
 * (`{P:<n>}:owner:<id>`, ...), so each script touches a single slot.
 */
export class PresenceKeys {
  constructor(
    private readonly prefix: string,
    readonly buckets = 1,
  ) {
    if (!Number.isInteger(buckets) || buckets < 1) throw new Error('buckets must be a positive integer');
  }

  /**
   * FNV-1a of the instance id: every node must place an id in the same bucket, and every replica of
   * an instance (`<id>/<replica>`) in its instance's bucket, beside the instance's replica hash.
   */
  bucketOf(slot: string): number {
    if (this.buckets === 1) return 0;
    const slash = slot.indexOf('/');
    const end = slash < 0 ? slot.length : slash;
    let hash = 0x811c9dc5;
    for (let i = 0; i < end; i++) {
      hash ^= slot.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193);
    }
    return (hash >>> 0) % this.buckets;
  }

  private tag(bucket: number): string {
    return this.buckets === 1 ? this.prefix : `{${this.prefix}:${bucket}}`;
  }

  owner(slot: string): string {
    return `${this.tag(this.bucketOf(slot))}:owner:${slot}`;
  }

  epoch(slot: string): string {
    return `${this.tag(this.bucketOf(slot))}:epoch:${slot}`;
  }

  /** Hash of an instance's replicas: name → `<expiresAt>|<epoch>|<state JSON>`. */
  replicas(instanceId: string): string {
    return `${this.tag(this.bucketOf(instanceId))}:reps:${instanceId}`;
  }
}
