import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const SCRIPT = path.join(__dirname, '../../scripts/security-check.js');

/** `npm run security` where the audit endpoint cannot answer: a registry on a port nothing listens on. */
function runWithoutAudit(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [SCRIPT, ...args], {
    encoding: 'utf8',
    env: {
      ...process.env,
      npm_config_registry: 'http://127.0.0.1:9/',
      npm_config_fetch_retries: '0',
      ...env,
    },
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('npm run security when npm audit cannot run', () => {
  it('fails, saying the audit did not run and how to accept that', () => {
    const { status, output } = runWithoutAudit([]);
    expect(status).toBe(1);
    expect(output).toMatch(/^ok {3}ws /m);
    expect(output).toContain('FAIL npm audit could NOT run here (request to http://127.0.0.1:9/');
    expect(output).toContain('--allow-no-audit');
  });

  it.each([
    ['--allow-no-audit', ['--allow-no-audit'], {}],
    ['SECURITY_AUDIT=optional', [], { SECURITY_AUDIT: 'optional' }],
  ])(
    'passes on the minimum versions alone with %s, saying loudly the audit was skipped',
    (_label, args, env) => {
      const { status, output } = runWithoutAudit(args, env);
      expect(status).toBe(0);
      expect(output).toMatch(/^ok {3}ws /m);
      expect(output).toContain('SKIPPED npm audit could NOT run here');
      expect(output).toContain('NO advisory database was consulted');
    },
  );
});
