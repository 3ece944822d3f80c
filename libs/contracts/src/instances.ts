import type { Pagination } from './answers';

/** Status values of the Second Me protocol. */
export const INSTANCE_STATUSES = ['registered', 'online', 'offline', 'unregistered'] as const;
export type InstanceStatus = (typeof INSTANCE_STATUSES)[number];

/** Who may see and chat with an instance. `public` is the default (stock Second Me behaviour). */
export const VISIBILITIES = ['public', 'private'] as const;
export type Visibility = (typeof VISIBILITIES)[number];

/** What the owner allows every caller to ask of the model; enforced by the registry before routing. */
export interface InstancePolicy {
  /** Only these models may be named (a request naming none goes to the host's default). */
  allowed_models?: string[];
  /** Every request gets this model (filled in when absent; another one is refused). */
  pinned_model?: string;
  /** Ceiling of every token field a model server reads; a request without max_tokens gets at most this. */
  max_tokens?: number;
  /**
   * The endpoints callers may call (`chat`, `embeddings`, `completions`, `responses`, `messages`,
   * `rerank`, `transcriptions`); absent (or null when set): all of them. Others are refused with 403.
   */
  endpoints?: string[];
}

/** `POST /api/upload/register`: the only answer that shows the password. */
export interface Registration {
  instance_id: string;
  instance_password: string;
  status: InstanceStatus;
  upload_name: string;
  ws_url: string;
}

/**
 * How a replica's model server answered its agent's last probe: `ok`, `unreachable` (no answer),
 * `error` (an answer that is not usable); null: unknown (a stock host, or an agent that does not probe).
 */
export type ModelStatus = 'ok' | 'unreachable' | 'error';

/** One connected agent of an instance, as its owner's detail lists it. */
export interface ReplicaInfo {
  /** '' for a stock host, which sends no name. */
  name: string;
  node_id: string;
  connected_at: string;
  capacity: number;
  in_flight: number;
  draining: boolean;
  /** Chats go only to replicas whose model is not down (null counts as up). */
  model_status: ModelStatus | null;
  /** The agent's own words about its model server (owner only; never in a public answer). */
  model_detail: string | null;
}

/** `GET /api/upload/{id}` (the owner's view). */
export interface InstanceDetail {
  upload_name: string;
  instance_id: string;
  status: InstanceStatus;
  description: string;
  email: string;
  config: unknown;
  capabilities: unknown;
  registration_time: string | null;
  last_heartbeat: string | null;
  is_connected: boolean;
  last_ws_check: string | null;
  visibility: Visibility;
  policy: InstancePolicy | null;
  /** The models callers see (what the host announced, within the owner's policy). */
  models: string[];
  /**
   * What the instance's URL serves: `chat`, and `embeddings`, `completions`, `responses`, `messages`
   * (Anthropic, at `/v1/messages`), `rerank`, `transcriptions` (at `/audio/transcriptions`) as its
   * host announced them, less those the owner's policy denies (absent from older registries).
   */
  endpoints?: string[];
  /** Sorted by name (absent from registries older than replicas). */
  replicas?: ReplicaInfo[];
  /** See ListedInstance.model_reachable. */
  model_reachable: boolean | null;
}

/** `PUT /api/upload/{id}`. */
export interface InstanceUpdate {
  instance_id: string;
  status: InstanceStatus;
  upload_name: string;
  updated_fields: string[];
}

/** `DELETE /api/upload/{id}`. */
export interface InstanceRemoval {
  instance_id: string;
  status: InstanceStatus;
}

/** One row of the public list (email masked, never a secret). */
export interface ListedInstance {
  upload_name: string;
  instance_id: string;
  description: string;
  email: string;
  status: InstanceStatus;
  models: string[];
  /**
   * Online: whether a connected replica's model answers (false: "online — model unreachable",
   * callers get 503 `model_unreachable`); a replica whose agent does not probe counts as answering.
   * null when not online.
   */
  model_reachable: boolean | null;
}

/** `GET /api/upload/list`. */
export interface InstanceList {
  items: ListedInstance[];
  pagination: Pagination;
}

/** `GET /api/upload/count`. */
export interface InstanceCount {
  count: number;
}

/** `GET /api/console/instances/{id}` of a public instance. */
export interface PublicCard {
  instance_id: string;
  visibility: 'public';
  upload_name: string;
  description: string;
  status: InstanceStatus;
  models: string[];
  /** What the instance's URL serves (see InstanceDetail.endpoints): the console's playground offers them. */
  endpoints: string[];
  registration_time: string;
  /** See ListedInstance.model_reachable. */
  model_reachable: boolean | null;
}

/** A private instance's card names only its id, visibility and status. */
export interface PrivateCard {
  instance_id: string;
  visibility: 'private';
  status: InstanceStatus;
  /** See ListedInstance.model_reachable. */
  model_reachable: boolean | null;
}

export type InstanceCard = PublicCard | PrivateCard;
