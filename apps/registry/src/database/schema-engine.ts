import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';

export type { SchemaEngine };

// Our lib (ES2023, no DOM) has no WebAssembly typings; this is the part we use.
declare const WebAssembly: {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, unknown>,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>;
};

/** The JS glue of @prisma/schema-engine-wasm (schema_engine_bg.js) once linked to its WASM instance. */
interface EngineBindings {
  SchemaEngine: typeof SchemaEngine;
  version(): string;
  __wbg_set_wasm(exports: Record<string, unknown>): void;
}

let bindings: Promise<EngineBindings> | undefined;

/**
 * The engine arms a 10 s timer around its `pg_advisory_lock` and never clears it (the glue has no
 * clearTimeout), which would keep a finished CLI or test process alive for 10 s. The timer only
 * races a query whose open socket keeps the process alive anyway, so it need not hold a ref.
 */
function unrefSetTimeout(callback: () => void, ms: number): NodeJS.Timeout {
  return setTimeout(callback, ms).unref();
}

/**
 * Loads Prisma's schema engine (WASM) once per process.
 * The package is ESM-only and its entry imports a .wasm file, which neither Node 20 nor Jest's
 * CommonJS runtime can load; so we evaluate the glue file ourselves in the current realm
 * (its `export` keywords stripped) and link the .wasm to it by hand, as its entry would.
 */
export function loadSchemaEngine(): Promise<EngineBindings> {
  bindings ??= (async () => {
    // The exports map only exposes the glue; the .wasm sits next to it.
    const gluePath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const names: string[] = [];
    const source = readFileSync(gluePath, 'utf8').replace(
      /^export (function|class) (\w+)/gm,
      (_m, kind, name) => {
        names.push(name);
        return `${kind} ${name}`;
      },
    );
    // Fail loudly if a future release uses a module syntax this rewrite does not handle.
    if (/^\s*(import|export)\b/m.test(source)) throw new Error(`Unsupported module syntax in ${gluePath}`);
    // `module.require` is what the glue uses to reach node:crypto for random numbers.
    const glue = new Function('module', 'setTimeout', `${source}\nreturn { ${names.join(', ')} };`)(
      { require },
      unrefSetTimeout,
    ) as EngineBindings;
    const bytes = readFileSync(path.join(path.dirname(gluePath), 'schema_engine_bg.wasm'));
    const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': glue });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue;
  })().catch((error: unknown) => {
    bindings = undefined; // a failed load is retried on the next call
    throw error;
  });
  return bindings;
}

/**
 * Creates a schema engine bound to a driver adapter factory.
 * `schemas` are [path, content] pairs of the Prisma schema files; `log` receives the engine's tracing output.
 */
export async function createSchemaEngine(
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  schemas: [string, string][],
  log?: (msg: string) => void,
): Promise<SchemaEngine> {
  const { SchemaEngine: Engine } = await loadSchemaEngine();
  return Engine.new(
    { datamodels: schemas },
    (msg: string) => log?.(msg),
    bindMigrationAwareSqlAdapterFactory(adapterFactory),
  );
}
