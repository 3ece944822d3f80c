import { Injectable, OnModuleDestroy } from '@nestjs/common';
import type { DatabaseAdapter } from './adapter-factory';
import { PrismaClient } from './generated/client';

/** The Prisma client over PostgreSQL or PGlite; closes the driver when the app shuts down. */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleDestroy {
  constructor(private readonly database: DatabaseAdapter) {
    super({ adapter: database.factory });
  }

  get kind(): DatabaseAdapter['kind'] {
    return this.database.kind;
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
    await this.database.close();
  }
}
