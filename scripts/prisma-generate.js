#!/usr/bin/env node
// Runs `prisma generate` without internet access.
// The Prisma CLI downloads a native schema engine before any command unless
// PRISMA_SCHEMA_ENGINE_BINARY names an existing file; `generate` never runs that
// engine, so any file will do. Migrations use the WASM engine instead (see docs/).
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY) env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath;

const cli = require.resolve('prisma/build/index.js');
const result = spawnSync(
  process.execPath,
  [cli, 'generate', '--schema', path.join(__dirname, '..', 'prisma', 'schema.prisma')],
  {
    env,
    stdio: 'inherit',
  },
);
process.exit(result.status ?? 1);
