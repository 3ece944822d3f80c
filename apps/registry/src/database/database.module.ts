import { Global, Logger, Module } from '@nestjs/common';
import * as path from 'node:path';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { createAdapterFactory } from './adapter-factory';
import { applyMigrations } from './migrator';
import { findPrismaDir } from './prisma-paths';
import { PrismaService } from './prisma.service';

/**
 * Opens the database (PostgreSQL with DATABASE_URL, else PGlite in REGISTRY_DATA_DIR), applies the
 * committed migrations, and checks the connection: a database that cannot be reached stops the boot.
 */
@Global()
@Module({
  providers: [
    {
      provide: PrismaService,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig) => {
        const logger = new Logger('Database');
        const adapter = await createAdapterFactory({
          databaseUrl: config.databaseUrl,
          dataDir: config.dataDir,
          port: config.port,
          log: (msg) => logger.warn(msg),
        });
        try {
          if (config.migrateOnStart) {
            const prismaDir = findPrismaDir();
            const { applied } = await applyMigrations(adapter.factory, {
              migrationsDir: path.join(prismaDir, 'migrations'),
              schemaPath: path.join(prismaDir, 'schema.prisma'),
              log: (msg) => logger.log(msg),
            });
            logger.log(
              `${adapter.kind === 'pglite' ? `PGlite in ${config.dataDir}` : 'PostgreSQL'}: ${applied.length} migration(s) applied`,
            );
          }
          const prisma = new PrismaService(adapter);
          await prisma.$queryRaw`SELECT 1`;
          return prisma;
        } catch (error) {
          await adapter.close();
          throw error;
        }
      },
    },
  ],
  exports: [PrismaService],
})
export class DatabaseModule {}
