import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from './app-config';

/** Every variable `loadConfig` reads, found by handing it an environment that records each read. */
function variablesRead(): string[] {
  const read = new Set<string>();
  const env = new Proxy({} as Record<string, string | undefined>, {
    get: (_target, name) => {
      if (typeof name === 'string') read.add(name);
      return undefined;
    },
  });
  loadConfig(env);
  return [...read].sort();
}

describe('docs/configuration.md', () => {
  const docs = readFileSync(path.join(__dirname, '../../../../docs/configuration.md'), 'utf8');

  it('documents every setting loadConfig reads', () => {
    const variables = variablesRead();
    expect(variables.length).toBeGreaterThan(20);
    expect(variables.filter((name) => !docs.includes(`\`${name}\``))).toEqual([]);
  });
});
