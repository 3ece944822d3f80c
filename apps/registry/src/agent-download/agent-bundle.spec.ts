import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { loadAgentDownload } from './agent-bundle';

describe('loadAgentDownload', () => {
  it('serves the built file with its SHA-256 in the format sha256sum -c reads', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'agent-bundle-')), 'agent.mjs');
    writeFileSync(file, '#!/usr/bin/env node\nconsole.log("agent");\n');
    const download = loadAgentDownload(file)!;
    const sha256 = createHash('sha256').update('#!/usr/bin/env node\nconsole.log("agent");\n').digest('hex');
    expect(download.sha256).toBe(sha256);
    expect(download.script.type).toBe('text/javascript; charset=utf-8');
    expect(gunzipSync(download.script.gzipped).toString()).toContain('console.log("agent")');
    expect(download.checksum.body.toString()).toBe(`${sha256}  agent.mjs\n`);
    // Two files, two validators: a cache must never answer one with the other.
    expect(download.script.etag).not.toBe(download.checksum.etag);
  });

  it('is null when the agent was not built', () => {
    expect(loadAgentDownload(path.join(tmpdir(), 'no-such-dir', 'agent.mjs'))).toBeNull();
  });
});
