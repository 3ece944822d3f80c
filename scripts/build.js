#!/usr/bin/env node
// `npm run build`: generates the Prisma client (offline), compiles with the Nest CLI (tsc builder,
// one program for every app, the libraries, the bench and the test support, into dist/), bundles
// the web console and the agent (one file, served at /agent.mjs), and records which sources dist/
// was built from (for `npm start`).
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { recordBuild, sourceFingerprint } = require('./build-fingerprint');

const ROOT = path.join(__dirname, '..');
const NEST = path.join(ROOT, 'node_modules/@nestjs/cli/bin/nest.js');

function step(script, args = []) {
  const result = spawnSync(process.execPath, [script, ...args], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

// Taken before compiling: a file saved during the build makes the next `npm start` build again.
const fingerprint = sourceFingerprint();
step(path.join(__dirname, 'prisma-generate.js'));
step(NEST, ['build', 'registry']);
step(path.join(__dirname, 'build-console.js'));
step(path.join(__dirname, 'build-agent.js'));
recordBuild(fingerprint);
