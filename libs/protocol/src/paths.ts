/** URL paths both sides build. */
export const Paths = {
  hostSocket: (instanceId: string) => `/api/ws/${encodeURIComponent(instanceId)}`,
  chat: (instanceId: string) => `/api/chat/${encodeURIComponent(instanceId)}`,
} as const;

/** Parses `Authorization: Bearer <instance_id>:<instance_password>`. */
export function parseBearerCredentials(
  header: string | undefined,
): { instanceId: string; password: string } | null {
  if (!header) return null;
  const match = /^Bearer\s+([^:\s]+):(\S+)$/i.exec(header.trim());
  if (!match) return null;
  return { instanceId: match[1], password: match[2] };
}
