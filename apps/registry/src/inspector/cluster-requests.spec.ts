import type { RecordedRequest } from '@app/contracts';
import { RecordingBus } from '../../../../test/doubles/recording-bus';
import type { LiveNodes } from '../cluster/live-nodes';
import { BodyCapture } from './body-capture';
import { ClusterRequests, INSPECT_TIMEOUT_MS } from './cluster-requests';
import { NodeRequestLog } from './node-request-log';

const row = (id: string, at: number, over: Partial<RecordedRequest> = {}): RecordedRequest => ({
  id,
  at,
  endpoint: '/api/chat/{id}',
  model: null,
  key_id: null,
  status: 200,
  code: null,
  outcome: 'answered',
  ttft_ms: 1,
  duration_ms: 2,
  tokens_in: 0,
  tokens_out: 0,
  node: 'me',
  served_by_node: 'me',
  replica: '',
  caller: '203.0.113.0/24',
  request_id: null,
  ...over,
});

function setup(nodes: string[]) {
  const bus = new RecordingBus('me');
  const log = new NodeRequestLog();
  const live = { current: new Set(['me', ...nodes]) } as unknown as LiveNodes;
  const requests = new ClusterRequests(bus, live, log, new BodyCapture(bus));
  requests.onModuleInit();
  const inspectsTo = (node: string) =>
    bus.sent
      .filter((s) => s.to === node && s.message.kind === 'inspect')
      .map((s) => s.message as { requestId: string });
  return { bus, log, requests, inspectsTo };
}
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ClusterRequests', () => {
  it('merges this node’s rows with each other node’s answer, newest first, cut to the limit', async () => {
    const now = Date.now();
    const { bus, log, requests, inspectsTo } = setup(['b', 'c']);
    log.record('i', row('mine', now - 10));
    const gathering = requests.gather('i', { since: 0, limit: 3, status: '2xx' });
    await settle();
    const [toB] = inspectsTo('b');
    const [toC] = inspectsTo('c');
    expect(toB).toMatchObject({ instanceId: 'i', from: 'me', since: 0, limit: 3, status: '2xx' });
    const answer = (to: { requestId: string }, from: string, rows: unknown[]) =>
      bus.deliver({ kind: 'inspected', requestId: to.requestId, from, instanceId: 'i', rows });
    // A malformed row from another node is dropped, the rest kept.
    answer(toB, 'b', [row('b1', now - 5, { node: 'b' }), { id: 'bad' }]);
    answer(toC, 'c', [row('c1', now - 1, { node: 'c' }), row('c2', now - 20, { node: 'c' })]);
    const gathered = await gathering;
    expect(gathered.rows.map((r) => r.id)).toEqual(['c1', 'b1', 'mine']);
    expect(gathered).toMatchObject({ asked: 3, skipped: [] });
  });

  it('skips a node that does not answer in time, and one nobody listens for', async () => {
    const { bus, requests } = setup(['slow', 'dead']);
    bus.deadNodes.add('dead');
    const started = Date.now();
    const gathered = await requests.gather('i', { since: 0, limit: 10 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(INSPECT_TIMEOUT_MS - 20);
    expect(gathered.skipped.sort()).toEqual(['dead', 'slow']);
    // A late answer finds nobody waiting and changes nothing.
    const late = bus.sent.find((s) => s.to === 'slow')!.message as { requestId: string };
    bus.deliver({ kind: 'inspected', requestId: late.requestId, from: 'slow', instanceId: 'i', rows: [] });
  });

  it('answers another node’s inspection from its own log, filtered', async () => {
    const now = Date.now();
    const { bus, log } = setup([]);
    log.record('i', row('ok', now - 2));
    log.record('i', row('refused', now - 1, { status: 401, outcome: 'refused' }));
    bus.deliver({
      kind: 'inspect',
      requestId: 'q',
      from: 'other',
      instanceId: 'i',
      since: 0,
      limit: 10,
      status: 'refused',
    });
    bus.deliver({
      kind: 'inspect',
      requestId: 'q2',
      from: 'other',
      instanceId: 'i',
      since: 0,
      limit: 10,
      status: 'nonsense',
    });
    await settle();
    const answers = bus.sent.filter((s) => s.message.kind === 'inspected');
    expect(
      answers.map((a) => [
        a.to,
        (a.message as { requestId: string }).requestId,
        (a.message as { rows: RecordedRequest[] }).rows.map((r) => r.id),
      ]),
    ).toEqual([
      ['other', 'q', ['refused']],
      ['other', 'q2', []],
    ]);
  });
});
