import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The API docs (`/docs`, Swagger UI) share the console's origin, where an owner's password sits in
 * sessionStorage: they get the console's policy (this node's files only, no framing), with inline
 * styles allowed because Swagger UI's page and components use them.
 */
export const DOCS_CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Fastify onSend hook: adds the docs' policy to every answer under `/docs`. */
export async function docsSecurityHeaders(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.url !== '/docs' && !request.url.startsWith('/docs/') && !request.url.startsWith('/docs?'))
    return;
  reply.header('content-security-policy', DOCS_CONTENT_SECURITY_POLICY);
  reply.header('x-content-type-options', 'nosniff');
}
