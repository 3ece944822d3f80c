import type { FastifyReply } from 'fastify';

/** A file held in memory, with a gzip copy and a validator. */
export interface CachedFile {
  body: Buffer;
  gzipped: Buffer;
  /** Content-Type header value. */
  type: string;
  /** Quoted ETag header value. */
  etag: string;
}

/**
 * Sends a file from memory: revalidated on every use (`no-cache` + ETag, so a new build is seen at
 * once and an unchanged one costs a 304), gzip when the client takes it.
 */
export function sendCachedFile(
  file: CachedFile,
  requestHeaders: Record<string, string | undefined>,
  reply: FastifyReply,
  extraHeaders: Record<string, string> = {},
): void {
  void reply
    .header('content-type', file.type)
    .header('cache-control', 'no-cache')
    .header('etag', file.etag)
    .header('vary', 'accept-encoding')
    .header('x-content-type-options', 'nosniff')
    .headers(extraHeaders);
  if (requestHeaders['if-none-match'] === file.etag) {
    void reply.code(304).send();
    return;
  }
  if (/\bgzip\b/.test(requestHeaders['accept-encoding'] ?? ''))
    void reply.header('content-encoding', 'gzip').send(file.gzipped);
  else void reply.send(file.body);
}
