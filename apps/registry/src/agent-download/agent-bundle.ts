import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { CachedFile } from '../common/cached-file-reply';

/** Where `npm run build` writes the agent (scripts/build-agent.js), beside dist/apps/registry. */
export const AGENT_BUNDLE_PATH = path.resolve(__dirname, '../../../host/agent.mjs');

export const AGENT_FILE_NAME = 'agent.mjs';

export interface AgentDownload {
  script: CachedFile;
  /** `<sha256 hex>  agent.mjs\n`: what `sha256sum -c` and `shasum -a 256 -c` read. */
  checksum: CachedFile;
  sha256: string;
}

const cached = (body: Buffer, type: string, sha256: string, suffix: string): CachedFile => ({
  body,
  gzipped: gzipSync(body, { level: 9 }),
  type,
  etag: `"${sha256}${suffix}"`,
});

/**
 * The agent bundle built with this registry, read once at boot: the node serves exactly the agent
 * it was built with, so the two always speak the same protocol. Null when it was not built.
 */
export function loadAgentDownload(file = AGENT_BUNDLE_PATH): AgentDownload | null {
  if (!existsSync(file)) return null;
  const body = readFileSync(file);
  const sha256 = createHash('sha256').update(body).digest('hex');
  return {
    sha256,
    script: cached(body, 'text/javascript; charset=utf-8', sha256, ''),
    checksum: cached(
      Buffer.from(`${sha256}  ${AGENT_FILE_NAME}\n`),
      'text/plain; charset=utf-8',
      sha256,
      '.sha256',
    ),
  };
}
