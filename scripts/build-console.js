// Bundles the web console (apps/console, Preact + TypeScript) with esbuild into dist/apps/console,
// which every registry node serves at `/`. Prints the compressed size and fails past the budget.
const { build } = require('esbuild');
const { copyFileSync, mkdirSync, readFileSync } = require('node:fs');
const path = require('node:path');
const { gzipSync } = require('node:zlib');

const ROOT = path.join(__dirname, '..');
const SOURCE = path.join(ROOT, 'apps/console');
const OUT = path.join(ROOT, 'dist/apps/console');
const BUDGET_BYTES = 150 * 1024;

async function main() {
  mkdirSync(OUT, { recursive: true });
  await build({
    entryPoints: [path.join(SOURCE, 'src/main.tsx')],
    outfile: path.join(OUT, 'app.js'),
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['es2020'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: path.join(SOURCE, 'tsconfig.json'),
    legalComments: 'none',
    logLevel: 'warning',
  });
  copyFileSync(path.join(SOURCE, 'index.html'), path.join(OUT, 'index.html'));
  const sizes = ['app.js', 'app.css'].map((name) => {
    const body = readFileSync(path.join(OUT, name));
    return { name, raw: body.length, gzip: gzipSync(body, { level: 9 }).length };
  });
  for (const s of sizes) console.log(`console ${s.name}: ${s.raw} bytes, ${s.gzip} bytes gzip`);
  const js = sizes.find((s) => s.name === 'app.js');
  if (js.gzip > BUDGET_BYTES) {
    console.error(`console app.js is ${js.gzip} bytes gzip, over the ${BUDGET_BYTES} byte budget`);
    process.exit(1);
  }
}

main().catch((error) => {
  console.error(`console build failed: ${error.message}`);
  process.exit(1);
});
