import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseConfig, USAGE } from './config';

/** Values that get parseConfig past its required settings, so it goes on to read every other one. */
const REQUIRED: Record<string, string> = {
  REGISTRY_URL: 'http://localhost:3000',
  INSTANCE_ID: 'i1',
  INSTANCE_PASSWORD: 'p1',
};

/** Every variable parseConfig reads, found by handing it an environment that records each read. */
function variablesRead(): string[] {
  const read = new Set<string>();
  const env = new Proxy({} as NodeJS.ProcessEnv, {
    get: (_target, name) => {
      if (typeof name !== 'string') return undefined;
      read.add(name);
      return REQUIRED[name];
    },
  });
  const result = parseConfig([], env, { hostname: () => 'docs-host' });
  if (result.kind !== 'ok') throw new Error(`parseConfig failed: ${JSON.stringify(result)}`);
  return [...read].sort();
}

/** The "Host agent" section of docs/configuration.md (up to the next second-level heading). */
function agentSection(): string {
  const docs = readFileSync(path.join(__dirname, '../../../docs/configuration.md'), 'utf8');
  const start = docs.indexOf('\n## Host agent');
  const end = docs.indexOf('\n## ', start + 1);
  return docs.slice(start, end === -1 ? undefined : end);
}

describe('the agent settings are documented', () => {
  const variables = variablesRead();

  it('in the "Host agent" section of docs/configuration.md', () => {
    expect(variables.length).toBeGreaterThan(15);
    const section = agentSection();
    expect(variables.filter((name) => !section.includes(`\`${name}\``))).toEqual([]);
  });

  it('in --help', () => {
    expect(variables.filter((name) => !USAGE.includes(name))).toEqual([]);
  });
});
