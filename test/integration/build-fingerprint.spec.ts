import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const SCRIPT = path.join(__dirname, '../../scripts/build-fingerprint.js');

/** What `npm start` compares with the fingerprint dist/ was built from, for a checkout at `root`. */
function fingerprint(root: string): string {
  const code = `process.stdout.write(require(${JSON.stringify(SCRIPT)}).sourceFingerprint(${JSON.stringify(root)}))`;
  const result = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout;
}

describe('the sources fingerprint that lets npm start skip a build', () => {
  let root: string;
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  };

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'mreg-fingerprint-'));
    write('package.json', '{}');
    write('apps/registry/src/main.ts', 'main();');
    write('apps/registry/src/main.spec.ts', 'test();');
    write('libs/common/src/index.ts', 'export {};');
    write('prisma/schema.prisma', 'model A {}');
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('changes when a compiled source is edited, added, removed or renamed', () => {
    const built = fingerprint(root);
    expect(fingerprint(root)).toBe(built);

    write('apps/registry/src/main.ts', 'main(1);');
    expect(fingerprint(root)).not.toBe(built);
    write('apps/registry/src/main.ts', 'main();');
    expect(fingerprint(root)).toBe(built);

    write('libs/common/src/extra.ts', '');
    expect(fingerprint(root)).not.toBe(built);
    unlinkSync(path.join(root, 'libs/common/src/extra.ts'));
    unlinkSync(path.join(root, 'libs/common/src/index.ts'));
    expect(fingerprint(root)).not.toBe(built);
    write('libs/common/src/index.ts', 'export {};');

    renameSync(path.join(root, 'apps/registry/src/main.ts'), path.join(root, 'apps/registry/src/app.ts'));
    expect(fingerprint(root)).not.toBe(built);
  });

  it('changes with the Prisma schema and the package files, not with specs or generated output', () => {
    const built = fingerprint(root);
    write('apps/registry/src/main.spec.ts', 'test(2);');
    write('apps/registry/src/database/generated/client.ts', 'generated();');
    write('bench/results/latest.json', '{}');
    expect(fingerprint(root)).toBe(built);

    write('prisma/schema.prisma', 'model B {}');
    const afterSchema = fingerprint(root);
    expect(afterSchema).not.toBe(built);
    write('package.json', '{"dependencies":{}}');
    expect(fingerprint(root)).not.toBe(afterSchema);
  });
});
