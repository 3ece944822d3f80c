#!/usr/bin/env node
// `npm run dev`: `nest start registry --watch` (recompiles on change and restarts the registry
// after each compile without type errors), once the Prisma client and the console bundle exist.
// Settings come from the environment as for `npm start`; a restart skips the drain wait unless
// DRAIN_GRACE_MS is set. Arguments are passed on to `nest start` (e.g. `npm run dev -- --debug`).
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const path = require('node:path');
const { forgetBuild } = require('./build-fingerprint');

const ROOT = path.join(__dirname, '..');
const NEST = path.join(ROOT, 'node_modules/@nestjs/cli/bin/nest.js');

for (const script of ['prisma-generate.js', 'build-console.js', 'build-agent.js']) {
  const result = spawnSync(process.execPath, [path.join(__dirname, script)], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
forgetBuild();
const nest = spawn(process.execPath, [NEST, 'start', 'registry', '--watch', ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { DRAIN_GRACE_MS: '0', DRAIN_HANDOFF_MS: '0', ...process.env },
});
nest.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
// Ctrl-C reaches the whole process group; the Nest CLI stops the registry and exits, and so do we.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => nest.kill('SIGTERM'));
