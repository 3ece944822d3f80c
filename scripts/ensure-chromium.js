#!/usr/bin/env node
// `npm test` runs the console's browser tests in a real Chromium (playwright-core drives it; no
// browser download). CHROMIUM_PATH names the browser to use; without it, Debian's package at
// /usr/bin/chromium, which a fresh Debian/Ubuntu machine where we are root gets with apt-get.
// Elsewhere this says what to do, and the browser tests fail with the same message.
'use strict';
const { existsSync } = require('node:fs');
const { spawnSync } = require('node:child_process');

const DEBIAN_CHROMIUM = '/usr/bin/chromium';
const chosen = process.env.CHROMIUM_PATH;

if (chosen) {
  if (existsSync(chosen)) process.exit(0);
  // The user picked a browser: installing another one would not be the one they asked for.
  console.error(
    `CHROMIUM_PATH=${chosen} does not exist: point it at a Chromium or Chrome binary, or unset it.`,
  );
  process.exit(1);
}
if (existsSync(DEBIAN_CHROMIUM)) process.exit(0);

const canApt = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
if (!canApt) {
  console.warn(
    `Chromium not found at ${DEBIAN_CHROMIUM}: the console's browser tests will fail. ` +
      'Install it (Debian/Ubuntu: `sudo apt-get install -y chromium`) or set CHROMIUM_PATH.',
  );
  process.exit(0);
}
console.log(
  `Chromium not found at ${DEBIAN_CHROMIUM}: installing Debian's chromium package for the browser tests`,
);
const run = (args) =>
  spawnSync('apt-get', args, {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
if (run(['update', '-qq']).status !== 0 || run(['install', '-y', '-qq', 'chromium']).status !== 0) {
  console.error('could not install chromium with apt-get; the browser tests will fail');
  process.exit(1);
}
