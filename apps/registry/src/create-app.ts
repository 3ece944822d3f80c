import { NestFactory } from '@nestjs/core';
import { createServer, type RequestListener } from 'node:http';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { AppLogger } from './common/app-logger';
import { bodyGuard } from './common/body-guard';
import { trustFunction } from './common/client-address';
import { docsSecurityHeaders } from './common/docs-security-headers';
import type { AppConfig } from './config/app-config';
import { HostSocketServer } from './hosts/host-socket.server';
import { registerMultipartParser } from './passthrough/multipart-upload';

/** Builds a registry node (not yet listening): used by main.ts and by tests. */
export async function createRegistryApp(config: AppConfig): Promise<NestFastifyApplication> {
  const trust = trustFunction(config.trustProxy);
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    trustProxy: trust ?? false,
    routerOptions: { maxParamLength: 256 },
    // Our own server so slow senders (slowloris) are cut by header/request timeouts checked every second.
    serverFactory: (handler: RequestListener) =>
      createServer(
        {
          headersTimeout: config.http.headersTimeoutMs,
          requestTimeout: config.http.requestTimeoutMs,
          connectionsCheckingInterval: 1_000,
          keepAliveTimeout: 65_000,
        },
        handler,
      ),
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger: new AppLogger(config),
    // Let main.ts report a failed boot (with its cause) instead of Nest exiting silently.
    abortOnError: false,
  });
  app.getHttpAdapter().getInstance().addHook('preValidation', bodyGuard);
  registerMultipartParser(app.getHttpAdapter().getInstance(), config.bodyLimitBytes);
  app.getHttpAdapter().getInstance().addHook('onSend', docsSecurityHeaders);
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Model registry')
      .setDescription(
        'Register local models, connect their hosts, and chat with them through a stable OpenAI-compatible URL.',
      )
      .setVersion('0.1.0')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: '<instance_id>:<instance_password>' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
  app.get(HostSocketServer).attach(app.getHttpServer());
  return app;
}
