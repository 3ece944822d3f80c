import { existsSync } from 'node:fs';
import * as path from 'node:path';

/** Finds the project's prisma/ folder from wherever this file runs (sources under ts-jest, or dist/). */
export function findPrismaDir(start = __dirname): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'prisma', 'schema.prisma'))) return path.join(dir, 'prisma');
    if (path.dirname(dir) === dir) throw new Error(`prisma/schema.prisma not found above ${start}`);
  }
}
