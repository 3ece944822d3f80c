/** What one node reports about itself to the cluster view. */
export interface NodeStats {
  node_id: string;
  /** When this record was taken (ms since epoch). */
  at: number;
  draining: boolean;
  connected_hosts: number;
  chats_in_flight: number;
  /** Chats finished per second over the last 10 s. */
  chats_per_second: number;
  /** Time to first token over the last minute; null when no chat got a first token then. */
  ttft_p50_ms: number | null;
  ttft_p99_ms: number | null;
}

/** `GET /api/admin/cluster`. */
export interface ClusterView {
  /** The node that answered. */
  node_id: string;
  /** That node first, then the others by id. */
  nodes: NodeStats[];
  totals: { nodes: number; connected_hosts: number; chats_in_flight: number; chats_per_second: number };
  /** Public instances online. */
  online_instances: number;
  online_instances_with_private: number;
  /** Why other nodes are missing (Redis could not be read); null when none is. */
  problem: string | null;
}
