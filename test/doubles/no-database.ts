import type { PrismaService } from '../../apps/registry/src/database/prisma.service';

/**
 * The database of a repository double whose methods are all overridden: a method the double
 * forgot reaches it and fails the test with its name, instead of a query running nowhere.
 */
export const NO_DATABASE = new Proxy(
  {},
  {
    get: (_target, name) => {
      throw new Error(`a repository double reached the database (${String(name)}): fake that method`);
    },
  },
) as PrismaService;
