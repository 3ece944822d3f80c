/** A registry app in this process (Fastify inject, no port) on PGlite or a fresh PostgreSQL database. */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Envelope, Registration } from '@app/contracts';
import { rmSync } from 'node:fs';
import { createRegistryApp } from '../../apps/registry/src/create-app';
import { createTestDatabase } from './postgres';
import { testConfig } from './registry-config';

export type DatabaseMode = 'pglite' | 'postgresql';

export interface Owner {
  id: string;
  /** `<id>:<password>`, for `Authorization: Bearer …`. */
  auth: string;
}

export interface InProcessRegistry {
  app: NestFastifyApplication;
  call(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    auth?: string,
    body?: unknown,
  ): ReturnType<NestFastifyApplication['inject']>;
  register(name: string): Promise<Owner>;
  close(): Promise<void>;
}

export async function startRegistryApp(
  mode: DatabaseMode,
  label: string,
  env: Record<string, string> = {},
): Promise<InProcessRegistry> {
  const db = mode === 'postgresql' ? await createTestDatabase(label) : undefined;
  const config = testConfig({ DATABASE_URL: db?.url, ...env });
  const app = await createRegistryApp(config);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  const call: InProcessRegistry['call'] = (method, url, auth, body) =>
    app.inject({
      method,
      url,
      headers: {
        ...(auth ? { authorization: `Bearer ${auth}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      payload: body === undefined ? undefined : JSON.stringify(body),
    });
  return {
    app,
    call,
    register: async (name) => {
      const res = await call('POST', '/api/upload/register', undefined, {
        upload_name: name,
        instance_id: null,
      });
      const data = res.json<Envelope<Registration>>().data!;
      return { id: data.instance_id, auth: `${data.instance_id}:${data.instance_password}` };
    },
    close: async () => {
      await app.close();
      await db?.drop();
      if (!db) rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}
