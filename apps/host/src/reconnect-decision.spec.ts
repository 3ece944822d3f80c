import { Backoff } from './backoff';
import type { ConnectionEnd } from './connection';
import { decideReconnect, type GoawayEvent, type ReconnectPolicy } from './reconnect-decision';

const URL = 'http://registry-a:3000';

/** Backoff ceilings start at 1000 ms; random() = 0.5 draws half the ceiling. */
const policy = (overrides: Partial<ReconnectPolicy> = {}): ReconnectPolicy => ({
  backoff: new Backoff({ baseMs: 1000, capMs: 8000, random: () => 0.5 }),
  stableMs: 10_000,
  backoffCapMs: 8000,
  random: () => 0.5,
  ...overrides,
});

const closed = (code: number, openForMs = 100, reason = ''): ConnectionEnd => ({
  kind: 'closed',
  code,
  reason,
  openForMs,
});

describe('decideReconnect', () => {
  describe('stops the agent for good', () => {
    it.each<[string, ConnectionEnd, string, RegExp]>([
      [
        'upgrade refused with 401',
        { kind: 'rejected', status: 401 },
        'unauthorized',
        /^wrong instance id or password — check --instance \(INSTANCE_ID\) and the password \(INSTANCE_PASSWORD or --password-file\)/,
      ],
      [
        'upgrade refused with 404',
        { kind: 'rejected', status: 404 },
        'not_found',
        /^instance not found \(deleted, or registered on another registry\?\) — check --instance/,
      ],
      [
        'closed 4409 (superseded)',
        closed(4409),
        'superseded',
        /another agent .* replica name and took over.*different --replica names/,
      ],
      ['closed 4401 (password rotated)', closed(4401), 'unauthorized', /password was changed/],
      ['closed 4404 (unregistered)', closed(4404), 'unregistered', /unregistered/],
    ])('%s', (_what, event, reason, message) => {
      const p = policy();
      const decision = decideReconnect(URL, event, p);
      expect(decision).toEqual({
        kind: 'exit',
        exit: { kind: 'fatal', reason, message: expect.stringMatching(message) },
      });
      expect(p.backoff.attempts).toBe(0);
    });
  });

  describe('moves on at once, with only a jitter under 250 ms', () => {
    it.each<[string, ConnectionEnd | GoawayEvent, string]>([
      [
        'goaway',
        { kind: 'goaway', reason: 'node draining', openForMs: 100 },
        `registry ${URL} is going away (node draining)`,
      ],
      ['closed 1001 (going away)', closed(1001, 100, 'bye'), 'disconnected (code 1001, bye)'],
      ['closed 1012 (service restart)', closed(1012), 'disconnected (code 1012)'],
    ])('%s', (_what, event, what) => {
      const p = policy();
      for (let i = 0; i < 3; i++) p.backoff.next();
      expect(decideReconnect(URL, event, p)).toEqual({ kind: 'retry', delayMs: 125, what });
      // The backoff is neither advanced nor reset by a link that did not prove stable.
      expect(p.backoff.attempts).toBe(3);
    });
  });

  describe('backs off, growing the delay each time', () => {
    it.each<[string, ConnectionEnd, string]>([
      [
        'the dial failed',
        { kind: 'failed', error: 'connect ECONNREFUSED' },
        `cannot connect to ${URL}: connect ECONNREFUSED — check --registry (REGISTRY_URL): the base URL of the registry you registered with, reachable from this machine`,
      ],
      [
        'upgrade refused with 503',
        { kind: 'rejected', status: 503 },
        `registry ${URL} refused the connection (HTTP 503)`,
      ],
      [
        'dropped without a close frame',
        { kind: 'closed', code: 1006, reason: '', openForMs: 100, error: 'read ECONNRESET' },
        'disconnected (code 1006, read ECONNRESET)',
      ],
      ['closed 4400 (protocol error)', closed(4400, 100, 'bad frame'), 'disconnected (code 4400, bad frame)'],
      [
        'closed 4429 (too many replicas)',
        closed(4429, 50, 'too many replicas'),
        `registry ${URL} turned this replica away: the instance already has as many replicas as the ` +
          'registry allows (code 4429, too many replicas); retrying in case one leaves',
      ],
    ])('%s', (_what, event, what) => {
      const p = policy();
      const delays = [1, 2, 3].map(() => decideReconnect(URL, event, p));
      expect(delays).toEqual([
        { kind: 'retry', delayMs: 500, what },
        { kind: 'retry', delayMs: 1000, what },
        { kind: 'retry', delayMs: 2000, what },
      ]);
    });
  });

  it("waits for a registry's Retry-After, but never longer than the backoff cap", () => {
    const rejected = (retryAfterMs: number): ConnectionEnd => ({
      kind: 'rejected',
      status: 429,
      retryAfterMs,
    });
    expect(decideReconnect(URL, rejected(5000), policy())).toMatchObject({ delayMs: 5000 });
    expect(decideReconnect(URL, rejected(3_600_000), policy())).toMatchObject({ delayMs: 8000 });
    // A Retry-After shorter than the backoff does not shorten it.
    expect(decideReconnect(URL, rejected(10), policy())).toMatchObject({ delayMs: 500 });
  });

  it('names a redirect without its credentials', () => {
    const decision = decideReconnect(
      URL,
      { kind: 'rejected', status: 302, location: 'https://user:secret@elsewhere.example/login?token=abc' },
      policy(),
    );
    expect(decision.kind).toBe('retry');
    const what = decision.kind === 'retry' ? decision.what : '';
    expect(what).toContain('with a redirect to https://');
    expect(what).toContain('elsewhere.example');
    expect(what).toContain('is --registry right?');
    expect(what).not.toContain('secret');
  });

  it('starts the backoff over after a connection that held for stableMs, not after a short one', () => {
    const p = policy();
    for (let i = 0; i < 3; i++) p.backoff.next();
    expect(decideReconnect(URL, closed(1006, 9_999), p)).toMatchObject({ delayMs: 4000 });
    expect(decideReconnect(URL, closed(1006, 10_000), p)).toMatchObject({ delayMs: 500 });
  });

  it('a goaway after a stable connection also starts the backoff over', () => {
    const p = policy();
    for (let i = 0; i < 3; i++) p.backoff.next();
    decideReconnect(URL, { kind: 'goaway', reason: '', openForMs: 60_000 }, p);
    expect(p.backoff.attempts).toBe(0);
    expect(decideReconnect(URL, { kind: 'goaway', reason: '', openForMs: 0 }, p)).toMatchObject({
      what: `registry ${URL} is going away`,
    });
  });
});
