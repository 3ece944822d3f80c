import { checkExitCode, registryCheck, upstreamChecks, type CheckResult } from './startup-checks';

const UP = 'http://127.0.0.1:11434/v1';
const REG = 'https://reg.example.com';

describe('start-up checks', () => {
  it('passes an upstream that serves models, including --model', () => {
    const results = upstreamChecks(UP, { models: ['llama3', 'qwen3'] }, 'qwen3');
    expect(results).toEqual([
      { ok: true, line: `upstream ${UP} serves llama3, qwen3` },
      { ok: true, line: '--model qwen3 is among them' },
    ]);
    expect(checkExitCode(results)).toBe(0);
  });

  it.each<[string, CheckResult[], number, RegExp]>([
    [
      'upstream unreachable',
      upstreamChecks(UP, { error: 'connect ECONNREFUSED 127.0.0.1:11434' }),
      4,
      /^cannot list the models of the upstream at http:\/\/127\.0\.0\.1:11434\/v1 \(connect ECONNREFUSED 127\.0\.0\.1:11434\) — start the model server, or set --upstream \(UPSTREAM_URL\)/,
    ],
    ['no models', upstreamChecks(UP, { models: [] }, 'llama3'), 5, /serves no models — load or pull a model/],
    [
      '--model missing',
      upstreamChecks(UP, { models: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'] }, 'llama3'),
      6,
      /^--model llama3 is not served by the upstream \(it serves a, b, c, d, e, f, g, h and 2 more\) — pull or load/,
    ],
    [
      'password refused',
      [registryCheck(REG, 'i1', { kind: 'unauthorized' })],
      1,
      /refused the password of instance i1 — check --instance/,
    ],
    ['instance unknown', [registryCheck(REG, 'i1', { kind: 'not_found' })], 1, /has no instance i1/],
    [
      'registry unreachable',
      [registryCheck(REG, 'i1', { kind: 'unreachable', error: 'getaddrinfo ENOTFOUND reg.example.com' })],
      3,
      /^cannot reach the registry at https:\/\/reg\.example\.com \(getaddrinfo ENOTFOUND reg\.example\.com\) — check --registry/,
    ],
    [
      'not a registry',
      [registryCheck(REG, 'i1', { kind: 'unexpected', status: 404 })],
      3,
      /answered HTTP 404, not as a model registry does — check --registry/,
    ],
  ])('%s: one line with what to do, and its exit code', (_what, results, code, line) => {
    const failed = results.filter((r) => !r.ok);
    expect(failed).toHaveLength(1);
    expect(failed[0].line).toMatch(line);
    expect(checkExitCode(results)).toBe(code);
  });

  it('names where a redirect pointed (an http URL for an https registry, a missing path)', () => {
    const result = registryCheck('http://reg.example.com', 'i1', {
      kind: 'unexpected',
      status: 301,
      location: 'https://reg.example.com/api/upload/i1',
    });
    expect(result.line).toMatch(
      /^http:\/\/reg\.example\.com answered HTTP 301 with a redirect to https:\/\/reg\.example\.com\/api\/upload\/i1, not as a model registry does — check --registry/,
    );
  });

  it('exits with the first failure printed (the registry before the upstream)', () => {
    const results = [
      registryCheck(REG, 'i1', { kind: 'accepted' }),
      registryCheck(REG, 'i1', { kind: 'unauthorized' }),
      ...upstreamChecks(UP, { error: 'refused' }),
    ];
    expect(checkExitCode(results)).toBe(1);
  });
});
