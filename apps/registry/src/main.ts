import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError } from '@app/common';
import { loadConfig } from './config/app-config';
import { createRegistryApp } from './create-app';
import { DrainService } from './lifecycle/drain.service';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const app = await createRegistryApp(config);
  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  new Logger('Registry').log(
    `node ${config.nodeId} listening on http://${config.host}:${port} ` +
      `(${config.databaseUrl ? 'PostgreSQL' : 'PGlite'}, ${config.redisClusterNodes ? 'Redis Cluster: distributed' : config.redisUrl ? 'Redis: distributed' : 'embedded: single node'}); ` +
      `web console at http://${['0.0.0.0', '::'].includes(config.host) ? 'localhost' : config.host}:${port}/, API docs at /docs`,
  );
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    new Logger('Registry').log(`${signal}: draining, then shutting down`);
    void app
      .get(DrainService)
      .drain()
      .then(() => app.close())
      .then(
        () => process.exit(0),
        (error: Error) => {
          console.error(`shutdown failed: ${error.message}`);
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // Machine-readable line for process supervisors and tests that start on port 0.
  if (process.env.REGISTRY_ANNOUNCE_PORT === '1')
    console.log(JSON.stringify({ event: 'listening', port, nodeId: config.nodeId }));
}

main().catch((error: Error) => {
  console.error(`registry failed to start: ${error.message}`);
  process.exit(1);
});
