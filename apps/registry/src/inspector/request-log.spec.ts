import type { RecordedRequest } from '@app/contracts';
import { RequestLog } from './request-log';

let seq = 0;
const row = (over: Partial<RecordedRequest> = {}): RecordedRequest => ({
  id: `r${seq++}`,
  at: 0,
  endpoint: '/api/chat/{id}',
  model: null,
  key_id: null,
  status: 200,
  code: null,
  outcome: 'answered',
  ttft_ms: 5,
  duration_ms: 9,
  tokens_in: 1,
  tokens_out: 2,
  node: 'n1',
  served_by_node: 'n1',
  replica: '',
  caller: '203.0.113.0/24',
  request_id: null,
  ...over,
});

describe('RequestLog', () => {
  let clock = 1_000_000;
  const now = () => clock;
  beforeEach(() => (clock = 1_000_000));

  it('keeps the newest per instance, newest first', () => {
    const log = new RequestLog({ perInstance: 3, maxAgeMs: 60_000, perNode: 100 }, now);
    for (let i = 0; i < 5; i++) log.record('a', row({ id: `a${i}`, at: clock + i }));
    expect(log.query('a', { since: 0, limit: 10 }).map((r) => r.id)).toEqual(['a4', 'a3', 'a2']);
    expect(log.size).toBe(3);
    expect(log.query('b', { since: 0, limit: 10 })).toEqual([]);
  });

  it('drops what is older than the age limit, on write and on read', () => {
    const log = new RequestLog({ perInstance: 10, maxAgeMs: 60_000, perNode: 100 }, now);
    log.record('a', row({ id: 'old', at: clock }));
    clock += 30_000;
    log.record('a', row({ id: 'mid', at: clock }));
    clock += 40_000;
    // 'old' is 70 s old now: a read no longer shows it, the next write drops it.
    expect(log.query('a', { since: 0, limit: 10 }).map((r) => r.id)).toEqual(['mid']);
    log.record('a', row({ id: 'new', at: clock }));
    expect(log.size).toBe(2);
  });

  it('holds the node-wide cap by taking from the least recently active instance', () => {
    const log = new RequestLog({ perInstance: 10, maxAgeMs: 60_000, perNode: 4 }, now);
    log.record('quiet', row({ id: 'q0', at: clock }));
    log.record('quiet', row({ id: 'q1', at: clock }));
    log.record('busy', row({ id: 'b0', at: clock }));
    log.record('busy', row({ id: 'b1', at: clock }));
    log.record('busy', row({ id: 'b2', at: clock }));
    expect(log.size).toBe(4);
    expect(log.query('quiet', { since: 0, limit: 10 }).map((r) => r.id)).toEqual(['q1']);
    log.record('busy', row({ id: 'b3', at: clock }));
    expect(log.instances).toBe(1);
    // A stranger recording for many instances cannot grow the node past its cap.
    for (let i = 0; i < 1000; i++) log.record(`x${i}`, row({ at: clock }));
    expect(log.size).toBe(4);
    expect(log.instances).toBe(4);
  });

  it('filters by since, status class, outcome and key, and stops at the limit', () => {
    const log = new RequestLog({ perInstance: 50, maxAgeMs: 60_000, perNode: 100 }, now);
    log.record('a', row({ id: 'ok', at: clock + 1, key_id: 'k1' }));
    log.record(
      'a',
      row({ id: 'refused', at: clock + 2, status: 422, outcome: 'refused', code: 'invalid_value' }),
    );
    log.record('a', row({ id: 'left', at: clock + 3, status: 499, outcome: 'left', code: 'caller_gone' }));
    log.record('a', row({ id: 'failed', at: clock + 4, status: 502, outcome: 'failed', code: 'host_error' }));
    const ids = (q: Partial<Parameters<RequestLog['query']>[1]>) =>
      log.query('a', { since: 0, limit: 10, ...q }).map((r) => r.id);
    expect(ids({})).toEqual(['failed', 'left', 'refused', 'ok']);
    expect(ids({ status: '4xx' })).toEqual(['left', 'refused']);
    expect(ids({ status: '5xx' })).toEqual(['failed']);
    expect(ids({ status: '2xx' })).toEqual(['ok']);
    expect(ids({ status: 'refused' })).toEqual(['refused']);
    expect(ids({ status: 'left' })).toEqual(['left']);
    expect(ids({ keyId: 'k1' })).toEqual(['ok']);
    expect(ids({ since: clock + 3 })).toEqual(['failed', 'left']);
    expect(ids({ limit: 1 })).toEqual(['failed']);
  });

  it('sweeps instances idle for longer than the age limit', () => {
    const log = new RequestLog({ perInstance: 10, maxAgeMs: 60_000, perNode: 100 }, now);
    log.record('idle', row({ at: clock }));
    clock += 50_000;
    log.record('active', row({ at: clock }));
    clock += 20_000;
    log.sweep();
    expect(log.instances).toBe(1);
    expect(log.size).toBe(1);
    expect(log.query('active', { since: 0, limit: 10 })).toHaveLength(1);
  });
});
