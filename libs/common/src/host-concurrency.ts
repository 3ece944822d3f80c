/** The most chats one host may run at once: the agent refuses more, the registry clamps a `hello` to it. */
export const MAX_HOST_CONCURRENCY = 1024;

/** A host's announced concurrency as the registry applies it: a whole number in 1..MAX_HOST_CONCURRENCY, 1 when unusable. */
export function clampHostConcurrency(announced: unknown): number {
  return Math.max(1, Math.min(MAX_HOST_CONCURRENCY, Math.floor(Number(announced) || 1)));
}
