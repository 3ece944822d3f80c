// Bundles the host agent (apps/host, with libs/ and ws) with esbuild into one ES module,
// dist/apps/host/agent.mjs: what every registry node serves at /agent.mjs, what the npm package
// (dist/apps/host after this script, see apps/host/package.json) ships and what the agent image
// runs. Runs on Node >= 20 with nothing installed. Prints its size and fails past the budget.
const { build } = require('esbuild');
const { copyFileSync, readFileSync, statSync } = require('node:fs');
const path = require('node:path');
const { gzipSync } = require('node:zlib');

const ROOT = path.join(__dirname, '..');
const SOURCE = path.join(ROOT, 'apps/host');
const OUT = path.join(ROOT, 'dist/apps/host');
const BUNDLE = path.join(OUT, 'agent.mjs');
const BUDGET_BYTES = 256 * 1024;

// ws loads node's built-ins with require(): in an ES module that needs a real require.
const BANNER = [
  '// model-registry host agent (MIT): one file, no dependencies; `node agent.mjs --help`.',
  "import { createRequire as agentCreateRequire } from 'node:module';",
  'const require = agentCreateRequire(import.meta.url);',
].join('\n');

/** ws is bundled: its licence travels with it. */
const FOOTER = `/*\n * Bundled: ws (https://github.com/websockets/ws)\n *\n${readFileSync(
  path.join(ROOT, 'node_modules/ws/LICENSE'),
  'utf8',
)
  .trimEnd()
  .split('\n')
  .map((line) => ` * ${line}`.trimEnd())
  .join('\n')}\n */`;

/** ws's optional native helpers are never loaded: requiring them throws, and ws uses its own code. */
const withoutNativeAddons = {
  name: 'without-native-addons',
  setup(build) {
    build.onResolve({ filter: /^(bufferutil|utf-8-validate)$/ }, (args) => ({
      path: args.path,
      namespace: 'not-bundled',
    }));
    build.onLoad({ filter: /.*/, namespace: 'not-bundled' }, (args) => ({
      contents: `throw new Error('${args.path} is not bundled with the agent');`,
      loader: 'js',
    }));
  },
};

async function main() {
  await build({
    entryPoints: [path.join(SOURCE, 'src/main.ts')],
    outfile: BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: ['node20'],
    tsconfig: path.join(ROOT, 'tsconfig.json'),
    banner: { js: BANNER },
    footer: { js: FOOTER },
    plugins: [withoutNativeAddons],
    // Not minified: people read what they run next to their model; minifying saved 80 KB and no
    // measurable start time (node agent.mjs --help, hyperfine, 2026-12).
    legalComments: 'none',
    logLevel: 'warning',
  });
  // The npm package is dist/apps/host: its manifest and README beside the bundle.
  copyFileSync(path.join(SOURCE, 'package.json'), path.join(OUT, 'package.json'));
  copyFileSync(path.join(SOURCE, 'README.md'), path.join(OUT, 'README.md'));
  const raw = statSync(BUNDLE).size;
  const gzip = gzipSync(readFileSync(BUNDLE), { level: 9 }).length;
  console.log(`agent agent.mjs: ${raw} bytes, ${gzip} bytes gzip`);
  if (raw > BUDGET_BYTES) {
    console.error(`agent.mjs is ${raw} bytes, over the ${BUDGET_BYTES} byte budget`);
    process.exit(1);
  }
}

main().catch((error) => {
  console.error(`agent build failed: ${error.message}`);
  process.exit(1);
});
