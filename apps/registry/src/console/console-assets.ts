import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { CachedFile } from '../common/cached-file-reply';

export type ConsoleAsset = CachedFile;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Where `npm run build` writes the console: dist/apps/console, beside dist/apps/registry. */
export const CONSOLE_DIR = path.resolve(__dirname, '../../../console');

/**
 * The built console, read once at boot into memory (a few small files) with a gzip copy each.
 * Only files found here are ever served, so no request path reaches the file system.
 */
export function loadConsoleAssets(dir = CONSOLE_DIR): Map<string, ConsoleAsset> {
  const assets = new Map<string, ConsoleAsset>();
  if (!existsSync(dir)) return assets;
  for (const name of readdirSync(dir)) {
    const type = TYPES[path.extname(name)];
    if (!type) continue;
    const body = readFileSync(path.join(dir, name));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    assets.set(name, { body, gzipped: gzipSync(body, { level: 9 }), type, etag });
  }
  return assets;
}
