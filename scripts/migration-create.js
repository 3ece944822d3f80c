#!/usr/bin/env node
// Writes prisma/migrations/<timestamp>_<name>/migration.sql from the difference between the committed
// migrations and prisma/schema.prisma — what `prisma migrate dev --create-only` does — but offline:
// it uses Prisma's schema engine compiled to WASM and replays the migrations in an in-memory PGlite.
//   npm run db:migration:create -- <name>
// No build needed: the migrator's TypeScript sources are transpiled on the fly with `typescript`.
// Review the generated SQL, then commit it with the schema change.
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

require.extensions['.ts'] = (module, filename) => {
  const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
    },
  });
  module._compile(outputText, filename);
};

const root = path.join(__dirname, '..');
const { createAdapterFactory } = require(path.join(root, 'apps/registry/src/database/adapter-factory.ts'));
const { createMigration } = require(path.join(root, 'apps/registry/src/database/migrator.ts'));

async function main() {
  const name = process.argv[2];
  if (!name || !/^[A-Za-z0-9_]+$/.test(name)) {
    console.error('usage: npm run db:migration:create -- <name>   (letters, digits and _ only)');
    return 2;
  }
  const db = await createAdapterFactory({ dataDir: 'memory://' });
  try {
    const created = await createMigration(db.factory, {
      name,
      migrationsDir: path.join(root, 'prisma/migrations'),
      schemaPath: path.join(root, 'prisma/schema.prisma'),
    });
    console.log(
      created
        ? `Created ${path.relative(root, created.file)}`
        : 'schema.prisma matches the migrations: nothing to create.',
    );
    return 0;
  } finally {
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
