import type { IncomingMessage } from 'node:http';
import { clientAddress, trustFunction } from '../common/client-address';
import { ConfigError } from '@app/common';
import { loadConfig } from './app-config';

const load = (env: Record<string, string>) => loadConfig(env);

describe('loadConfig', () => {
  it('uses the defaults for an empty environment', () => {
    const config = load({});
    expect(config.port).toBe(3000);
    expect(config.trustProxy).toEqual({ kind: 'none' });
    expect(config.drainHandoffMs).toBe(5_000);
  });

  it('names the variable of a bad value', () => {
    expect(() => load({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => load({ PORT: 'eighty' })).toThrow(/PORT/);
  });

  it.each([
    ['', { kind: 'none' }],
    ['false', { kind: 'none' }],
    ['2', { kind: 'hops', hops: 2 }],
    ['loopback', { kind: 'addresses', addresses: ['loopback'] }],
    ['10.0.0.0/8, 192.168.1.7,::1', { kind: 'addresses', addresses: ['10.0.0.0/8', '192.168.1.7', '::1'] }],
  ])('TRUST_PROXY=%j', (raw, expected) => {
    expect(load({ TRUST_PROXY: raw }).trustProxy).toEqual(expected);
  });

  it.each(['true', 'proxy.example.com', '33'])('refuses TRUST_PROXY=%j', (raw) => {
    expect(() => load({ TRUST_PROXY: raw })).toThrow(/TRUST_PROXY/);
  });

  it('leaves the admin endpoints open without ADMIN_TOKEN and refuses a guessable one', () => {
    expect(load({}).adminToken).toBeUndefined();
    expect(load({ ADMIN_TOKEN: 'operator-token-0123456789' }).adminToken).toBe('operator-token-0123456789');
    expect(() => load({ ADMIN_TOKEN: 'short' })).toThrow(/ADMIN_TOKEN must be at least 16 characters/);
  });

  it('reads REDIS_CLUSTER_NODES as seed nodes', () => {
    expect(load({ REDIS_CLUSTER_NODES: 'redis-1:7000, 10.0.0.2:7001,[::1]:7002' }).redisClusterNodes).toEqual(
      [
        { host: 'redis-1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 7002 },
      ],
    );
  });

  it.each(['redis-1', 'redis-1:0', 'redis-1:70000', 'redis://redis-1:7000', 'a:1,,b:2'])(
    'refuses REDIS_CLUSTER_NODES=%j',
    (raw) => {
      expect(() => load({ REDIS_CLUSTER_NODES: raw })).toThrow(/REDIS_CLUSTER_NODES/);
    },
  );

  it('refuses REDIS_CLUSTER_NODES together with REDIS_URL', () => {
    expect(() => load({ REDIS_CLUSTER_NODES: 'r:7000', REDIS_URL: 'redis://r:6379' })).toThrow(
      /REDIS_CLUSTER_NODES and REDIS_URL/,
    );
  });

  it('refuses fewer stored keys than live keys per instance', () => {
    expect(load({ KEYS_PER_INSTANCE: '10', KEYS_STORED_PER_INSTANCE: '10' }).keys.maxStoredPerInstance).toBe(
      10,
    );
    expect(() => load({ KEYS_PER_INSTANCE: '10', KEYS_STORED_PER_INSTANCE: '9' })).toThrow(
      /KEYS_STORED_PER_INSTANCE must be at least KEYS_PER_INSTANCE/,
    );
  });
});

describe('clientAddress', () => {
  const request = (peer: string, forwarded?: string) =>
    ({
      socket: { remoteAddress: peer },
      connection: { remoteAddress: peer },
      headers: forwarded ? { 'x-forwarded-for': forwarded } : {},
    }) as unknown as IncomingMessage;

  it('is the socket peer when no proxy is trusted, whatever the header says', () => {
    expect(clientAddress(request('10.0.0.5', '1.2.3.4'), trustFunction({ kind: 'none' }))).toBe('10.0.0.5');
  });

  it('walks back through trusted proxies only', () => {
    const trust = trustFunction({ kind: 'addresses', addresses: ['10.0.0.0/8'] });
    expect(clientAddress(request('10.0.0.5', '1.2.3.4'), trust)).toBe('1.2.3.4');
    // A client cannot pretend: the hop before an untrusted one is not believed.
    expect(clientAddress(request('10.0.0.5', '6.6.6.6, 1.2.3.4'), trust)).toBe('1.2.3.4');
    expect(clientAddress(request('8.8.8.8', '1.2.3.4'), trust)).toBe('8.8.8.8');
  });

  it('trusts exactly N hops with a number', () => {
    const trust = trustFunction({ kind: 'hops', hops: 1 });
    expect(clientAddress(request('10.0.0.5', '6.6.6.6, 1.2.3.4'), trust)).toBe('1.2.3.4');
  });
});
