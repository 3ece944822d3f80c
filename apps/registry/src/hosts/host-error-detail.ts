/** Longest part of a host's error detail that goes to the node's log. */
const MAX_LOGGED = 300;
/** Credentials an upstream error body may echo back (bearer tokens, OpenAI-style keys). */
const CREDENTIALS = /\b(Bearer\s+)\S+|\bsk-[\w-]{6,}/gi;

/**
 * A host's error detail (an upstream's body, a socket error) as it may be logged: quoted (no
 * forged log lines), credentials masked, cut short. Callers never see it (they may be anyone).
 */
export function loggableHostError(detail: string): string {
  const masked = detail.replace(CREDENTIALS, (_match, bearer?: string) => `${bearer ?? ''}***`);
  const cut = masked.length > MAX_LOGGED ? `${masked.slice(0, MAX_LOGGED)}…` : masked;
  return JSON.stringify(cut);
}

/** What a caller is told when the host reports a failure: generic, with the id to quote. */
export const hostErrorMessage = (requestId: string) =>
  `the model host reported an error (request ${requestId})`;
