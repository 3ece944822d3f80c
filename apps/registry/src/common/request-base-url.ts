import type { FastifyRequest } from 'fastify';

/** The base URL a caller used, honouring a proxy's X-Forwarded-Proto. */
export function requestBaseUrl(request: FastifyRequest): string {
  const forwarded = request.headers['x-forwarded-proto'];
  const proto =
    (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim() || request.protocol;
  return `${proto}://${request.headers.host ?? 'localhost'}`;
}
