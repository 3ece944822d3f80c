// Jest transformer for ESM-only code in node_modules (NestJS 12, PGlite's runtime imports): Node
// itself loads them from CommonJS via require(esm), but Jest's runtime cannot before Node 24.9 and
// refuses import() outside its experimental ESM mode, so we rewrite them to CommonJS with
// TypeScript's own transpiler (already a dependency) instead of adding Babel.
const ts = require('typescript');
const crypto = require('node:crypto');

module.exports = {
  getCacheKey(source, filename) {
    return crypto.createHash('sha1').update('esm-to-cjs-4').update(filename).update(source).digest('hex');
  },
  process(source, filename) {
    // Most of node_modules is CommonJS already: leave it byte for byte.
    if (!/^\s*(import|export)\b|\bimport(\.meta|\()/m.test(source)) return { code: source };
    const patched =
      // Minified code may declare its own `var require`, which would shadow CommonJS's inside that function.
      'var __jestCjsRequire = require;\n' +
      source
        // `const require = createRequire(import.meta.url)` would redeclare CommonJS's own require.
        .replace(/\bconst require = createRequire\(import\.meta\.url\);?/g, '')
        .replace(/\bimport\.meta\.url\b/g, 'require("node:url").pathToFileURL(__filename).href')
        .replace(/\bimport\((["'][^"']+["'])\)/g, 'Promise.resolve(__jestCjsRequire($1))');
    const out = ts.transpileModule(patched, {
      fileName: filename.replace(/\.cjs$/, '.js'),
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        allowJs: true,
        esModuleInterop: true,
        sourceMap: false,
      },
    });
    return { code: out.outputText };
  },
};
