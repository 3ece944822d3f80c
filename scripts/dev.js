#!/usr/bin/env node
// `npm run dev`: compiles on every change (TypeScript watch mode on tsconfig.build.json, the same
// compiler and settings as `npm run build`), rewrites the path aliases as the build does, and
// restarts the registry after each compile without errors. Settings come from the environment as
// for `npm start`; a restart skips the drain wait unless DRAIN_GRACE_MS is set.
const { spawn, spawnSync } = require('node:child_process');
const path = require('node:path');
const ts = require('typescript');
const { replaceTscAliasPaths } = require('tsc-alias');

const ROOT = path.join(__dirname, '..');
const CONFIG = path.join(ROOT, 'tsconfig.build.json');
const MAIN = path.join(ROOT, 'dist/apps/registry/src/main.js');
// Diagnostics 6193/6194: "Found N error(s). Watching for file changes." ends each compile.
const COMPILE_DONE = new Set([6193, 6194]);

let registry = null;
let pending = Promise.resolve();

function log(message) {
  console.log(`[dev] ${message}`);
}

/** Stops the running registry (if any) and starts it again from dist/. */
async function restart() {
  if (registry && registry.exitCode === null && registry.signalCode === null) {
    const exited = new Promise((resolve) => registry.once('exit', resolve));
    registry.kill('SIGTERM');
    await exited;
  }
  log('starting the registry');
  registry = spawn(process.execPath, ['--enable-source-maps', MAIN], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { DRAIN_GRACE_MS: '0', DRAIN_HANDOFF_MS: '0', ...process.env },
  });
}

async function afterCompile(errorCount) {
  if (errorCount > 0) {
    log(`not restarting: ${errorCount} type error(s)`);
    return;
  }
  await replaceTscAliasPaths({ configFile: CONFIG });
  await restart();
}

function main() {
  // The Prisma client is generated source that the compile needs; the schema is not watched.
  const generate = spawnSync(process.execPath, [path.join(__dirname, 'prisma-generate.js')], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (generate.status !== 0) process.exit(generate.status ?? 1);

  const format = {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => ROOT,
    getNewLine: () => '\n',
  };
  const host = ts.createWatchCompilerHost(
    CONFIG,
    {},
    ts.sys,
    ts.createEmitAndSemanticDiagnosticsBuilderProgram,
    (diagnostic) => process.stderr.write(ts.formatDiagnosticsWithColorAndContext([diagnostic], format)),
    (diagnostic, _newLine, _options, errorCount) => {
      log(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      // Compiles can finish faster than a restart; run the restarts one after the other.
      if (COMPILE_DONE.has(diagnostic.code))
        pending = pending.then(() => afterCompile(errorCount ?? 0)).catch((error) => log(error.stack));
    },
  );
  ts.createWatchProgram(host);

  const stop = () => {
    if (registry && registry.exitCode === null) registry.once('exit', () => process.exit(0)).kill('SIGTERM');
    else process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main();
