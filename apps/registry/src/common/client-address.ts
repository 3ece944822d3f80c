import proxyAddr from '@fastify/proxy-addr';
import type { IncomingMessage } from 'node:http';
import type { TrustProxy } from '../config/app-config';

/** Whether the hop at `address` (0 = the peer of the socket) is a proxy whose header we believe. */
export type TrustFunction = (address: string, hop: number) => boolean;

/**
 * TRUST_PROXY as a function, shared by Fastify (REST and chat: `request.ip`) and the WebSocket
 * upgrade, so a client has the same address for every limit. null = believe no proxy.
 */
export function trustFunction(trust: TrustProxy): TrustFunction | null {
  switch (trust.kind) {
    case 'none':
      return null;
    case 'hops':
      return (_address, hop) => hop < trust.hops;
    case 'addresses':
      // Throws on an invalid address (validated in app-config already).
      return proxyAddr.compile(trust.addresses);
  }
}

/** The client's address: the socket's peer, or the X-Forwarded-For hop the trusted proxies name. */
export function clientAddress(request: IncomingMessage, trust: TrustFunction | null): string {
  if (!trust) return request.socket.remoteAddress ?? 'unknown';
  return proxyAddr(request, trust);
}
