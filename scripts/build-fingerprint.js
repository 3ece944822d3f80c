// Which sources dist/ was built from: one SHA-256 over every file the build reads, kept in
// dist/.build-fingerprint, so `npm start` builds only when one of them changed. Content, not
// timestamps: a checkout or a save that changes nothing costs no build.
'use strict';
const { createHash } = require('node:crypto');
const { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const STAMP = path.join(ROOT, 'dist/.build-fingerprint');
const INPUTS = [
  'apps',
  'libs',
  'bench',
  'test/support',
  'prisma/schema.prisma',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'nest-cli.json',
];
// Written by the build or the benchmark, not read by the build.
const SKIPPED_DIRS = new Set(['apps/registry/src/database/generated', 'bench/results']);
// Tests beside the code are not compiled into dist/.
const SKIPPED_FILES = /\.(spec|e2e-spec|fault-spec)\.ts$/;

function listFiles(root, relative, out) {
  if (SKIPPED_DIRS.has(relative)) return;
  const absolute = path.join(root, relative);
  if (!statSync(absolute).isDirectory()) {
    if (!SKIPPED_FILES.test(relative)) out.push(relative);
    return;
  }
  for (const entry of readdirSync(absolute).sort()) listFiles(root, path.posix.join(relative, entry), out);
}

/** `root`: the checkout to look at (another one in tests). */
function sourceFingerprint(root = ROOT) {
  const files = [];
  for (const input of INPUTS) if (existsSync(path.join(root, input))) listFiles(root, input, files);
  const hash = createHash('sha256');
  for (const file of files)
    hash
      .update(`${file}\0`)
      .update(readFileSync(path.join(root, file)))
      .update('\0');
  return hash.digest('hex');
}

function recordBuild(fingerprint) {
  writeFileSync(STAMP, `${fingerprint}\n`);
}

/** Watch mode compiles whatever is saved into dist/: from then on dist/ matches no recorded sources. */
function forgetBuild() {
  rmSync(STAMP, { force: true });
}

function builtFingerprint() {
  return existsSync(STAMP) ? readFileSync(STAMP, 'utf8').trim() : null;
}

module.exports = { sourceFingerprint, recordBuild, forgetBuild, builtFingerprint };
