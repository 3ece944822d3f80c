#!/usr/bin/env node
// Before `npm start`, `npm run start:registry` and `npm run host`: builds when dist/ is missing or
// was built from other sources than the ones checked out now, and skips the build (~20 s) otherwise.
'use strict';
const { existsSync } = require('node:fs');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { builtFingerprint, sourceFingerprint } = require('./build-fingerprint');

const ROOT = path.join(__dirname, '..');
const ENTRIES = ['dist/apps/registry/src/main.js', 'dist/apps/host/src/main.js', 'dist/apps/console/app.js'];

function staleReason() {
  if (!ENTRIES.every((entry) => existsSync(path.join(ROOT, entry)))) return 'dist/ is missing';
  const built = builtFingerprint();
  if (built === null) return 'dist/ does not say which sources it was built from';
  if (built !== sourceFingerprint()) return 'the sources changed since the last build';
  return null;
}

const reason = staleReason();
if (reason === null) {
  console.error('dist/ is up to date with the sources: not rebuilding (npm run build forces a build)');
} else {
  console.error(`${reason}: building first (npm run build)`);
  const result = spawnSync(process.execPath, [path.join(__dirname, 'build.js')], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
