#!/usr/bin/env node
// `npm run security`: `npm audit --omit=dev` (fails on high or critical advisories), then the
// minimum versions we require of security-sensitive dependencies. Where the audit endpoint cannot
// be reached (some mirrors and proxies refuse its POST), it says so plainly and still checks the
// minimum versions, so CI catches a downgrade even there.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

/** Versions below these have known advisories that matter to us. */
const MINIMUM = {
  ws: '8.17.1', // CVE-2024-37890: DoS through many HTTP headers
};

const newer = (a, b) => {
  const [x, y] = [a, b].map((v) => v.split(/[.-]/).slice(0, 3).map(Number));
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] > y[i];
  return true;
};

let failed = false;
for (const [name, min] of Object.entries(MINIMUM)) {
  const { version } = require(path.join(__dirname, '..', 'node_modules', name, 'package.json'));
  const ok = newer(version, min);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name} ${version} (needs >= ${min})`);
  failed ||= !ok;
}

const audit = spawnSync('npm', ['audit', '--omit=dev', '--audit-level=high', '--json'], {
  encoding: 'utf8',
  shell: process.platform === 'win32',
});
let report = null;
try {
  report = JSON.parse(audit.stdout);
} catch {
  /* not JSON: handled below */
}
const counts = report?.metadata?.vulnerabilities;
if (counts) {
  const serious = (counts.high ?? 0) + (counts.critical ?? 0);
  console.log(`npm audit --omit=dev: ${JSON.stringify(counts)}`);
  if (serious > 0) {
    console.log('FAIL high or critical advisories: run `npm audit --omit=dev` for details');
    failed = true;
  }
} else {
  const why =
    report?.message ?? (report?.error?.summary ?? audit.stderr ?? '').split('\n').find((l) => l.trim()) ?? '';
  console.log(
    `WARNING npm audit could NOT run here (${why.trim() || `exit ${audit.status}`}); only the minimum versions above were checked`,
  );
}
process.exit(failed ? 1 : 0);
