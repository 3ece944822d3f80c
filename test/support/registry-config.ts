import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AppConfig, loadConfig } from '../../apps/registry/src/config/app-config';

/** A registry configuration for tests: quiet, ephemeral port, PGlite in a temp dir unless overridden. */
export function testConfig(env: Record<string, string | undefined> = {}): AppConfig {
  return loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    REGISTRY_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'mreg-pglite-')),
    ...env,
  });
}
