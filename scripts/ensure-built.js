#!/usr/bin/env node
// Builds once if dist/ is missing, so `npm run host` and `npm run start:registry` work on a fresh clone.
const { existsSync } = require('node:fs');
const { execSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
if (
  !existsSync(path.join(root, 'dist/apps/registry/src/main.js')) ||
  !existsSync(path.join(root, 'dist/apps/host/src/main.js'))
) {
  console.error('dist/ is missing: building first (npm run build)');
  execSync('npm run build', { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
}
