/**
 * Replicas: several host connections of one instance, each under its own name. The name travels
 * in the upgrade request (header `X-Replica`, or `?replica=` for clients that cannot set headers),
 * so the registry knows it before the socket opens; our agent repeats it in `hello`. A connection
 * without a name (a stock Second Me host) is the instance's unnamed replica: as before replicas
 * existed, a second unnamed connection replaces the first.
 */

/** Header of the host's upgrade request that names its replica. */
export const REPLICA_HEADER = 'x-replica';

/** The query parameter alternative to the header. */
export const REPLICA_QUERY = 'replica';

/** 1-64 characters: letters, digits, `.`, `_`, `-`, starting with a letter or digit. */
export const REPLICA_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const isReplicaName = (value: unknown): value is string =>
  typeof value === 'string' && REPLICA_NAME.test(value);

/** The name of a stock host's connection (it sends none). */
export const UNNAMED_REPLICA = '';
