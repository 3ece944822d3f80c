#!/usr/bin/env node
// `npm test` runs the console's browser tests in a real Chromium (playwright-core drives it; no
// browser download). On a fresh Debian/Ubuntu machine where we are root, install Debian's package;
// elsewhere say what to do. The browser tests then fail with the same message instead of skipping.
'use strict';
const { existsSync } = require('node:fs');
const { spawnSync } = require('node:child_process');

const path = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
if (existsSync(path)) process.exit(0);

const canApt = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
if (!canApt) {
  console.warn(
    `Chromium not found at ${path}: the console's browser tests will fail. ` +
      'Install it (Debian/Ubuntu: `sudo apt-get install -y chromium`) or set CHROMIUM_PATH.',
  );
  process.exit(0);
}
console.log(`Chromium not found at ${path}: installing Debian's chromium package for the browser tests`);
const run = (args) =>
  spawnSync('apt-get', args, {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
if (run(['update', '-qq']).status !== 0 || run(['install', '-y', '-qq', 'chromium']).status !== 0) {
  console.error('could not install chromium with apt-get; the browser tests will fail');
  process.exit(1);
}
