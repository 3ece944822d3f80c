/**
 * The fake model's `maxConcurrent` (the benchmark's replicas section relies on it): with 1, a chat
 * answers only after the previous one ended, in arrival order, and a caller that leaves gives its
 * turn (or its slot) to the next. Real HTTP on loopback, the model in this process.
 */
import { eventually } from '../support/eventually';
import { FakeModel, startFakeModel } from '../support/fake-model-server';
import { LiveStream, startStream } from '../support/sse';

const CHUNKS = 5;
const DELAY_MS = 30;
/** The shortest an answer can take: the chunks are DELAY_MS apart and the end follows the last by DELAY_MS. */
const ANSWER_MS = CHUNKS * DELAY_MS;

const chatBody = (content = 'hello') => ({
  model: 'fake-model',
  messages: [{ role: 'user', content }],
  stream: true,
});

describe('fake model serving one chat at a time', () => {
  let model: FakeModel | undefined;
  const streams: LiveStream[] = [];

  afterEach(async () => {
    for (const s of streams.splice(0)) s.abort();
    await model?.close();
    model = undefined;
  });

  const open = (m: FakeModel, content?: string) => {
    const s = startStream(`${m.url}/chat/completions`, chatBody(content));
    streams.push(s);
    return s;
  };
  /** Starts a chat and waits until the model has it (answering or waiting), so arrival order is known. */
  const openInOrder = async (m: FakeModel, content?: string) => {
    const before = m.counters.requests;
    const s = open(m, content);
    await eventually(() => m.counters.requests > before, 5_000);
    return s;
  };

  it('answers a second chat only after the first ended, so two take about twice as long as one', async () => {
    model = await startFakeModel({ chunks: CHUNKS, delayMs: DELAY_MS, maxConcurrent: 1, record: false });
    const started = Date.now();
    const first = await openInOrder(model);
    const second = await openInOrder(model);
    const [a, b] = await Promise.all([first.ended, second.ended]);
    const wallMs = Date.now() - started;

    for (const end of [a, b]) {
      expect(end.status).toBe(200);
      expect(end.done).toBe(true);
      expect(end.data).toHaveLength(CHUNKS + 1); // content chunks + the finish chunk
    }
    // The second's first chunk came after the first's last one (the model wrote them DELAY_MS apart, at least).
    expect(b.arrivals[0]).toBeGreaterThanOrEqual(a.arrivals[a.arrivals.length - 1]);
    expect(model.load()).toEqual({ active: 0, waiting: 0, maxActive: 1, started: 2 });
    // Back to back: at least two whole answers (10 % slack for timer rounding).
    expect(wallMs).toBeGreaterThanOrEqual(2 * ANSWER_MS * 0.9);
  });

  it('without the option, the same two chats overlap (what the test above would see if the limit did nothing)', async () => {
    model = await startFakeModel({ chunks: CHUNKS, delayMs: DELAY_MS, record: false });
    const first = await openInOrder(model);
    const second = await openInOrder(model);
    const [a, b] = await Promise.all([first.ended, second.ended]);

    expect(a.done && b.done).toBe(true);
    expect(b.arrivals[0]).toBeLessThan(a.arrivals[a.arrivals.length - 1]);
    expect(model.load().maxActive).toBe(2);
  });

  it('serves waiting chats in arrival order; one that leaves while waiting never starts', async () => {
    model = await startFakeModel({ chunks: CHUNKS, delayMs: DELAY_MS, maxConcurrent: 1, record: false });
    const m = model;
    const a = await openInOrder(m);
    const b = await openInOrder(m);
    const c = await openInOrder(m);
    const d = await openInOrder(m);
    await eventually(() => m.load().waiting === 3, 5_000);
    const gone = m.nextAbort(5_000);
    c.abort();
    expect((await gone).chunksSent).toBe(0);

    const [ea, eb, ec, ed] = await Promise.all([a.ended, b.ended, c.ended, d.ended]);
    expect([ea.done, eb.done, ed.done]).toEqual([true, true, true]);
    expect(ec.done).toBe(false);
    expect(ec.data).toHaveLength(0);
    const last = (arrivals: number[]) => arrivals[arrivals.length - 1];
    expect(eb.arrivals[0]).toBeGreaterThanOrEqual(last(ea.arrivals));
    expect(ed.arrivals[0]).toBeGreaterThanOrEqual(last(eb.arrivals));
    expect(m.load()).toEqual({ active: 0, waiting: 0, maxActive: 1, started: 3 });
    expect(m.counters.aborted).toBe(1);
  });

  it('gives the slot to the next chat when the caller being answered goes away', async () => {
    model = await startFakeModel({ chunks: CHUNKS, delayMs: DELAY_MS, maxConcurrent: 1, record: false });
    const m = model;
    const hanging = await openInOrder(m, '[hang]'); // one chunk, then holds its slot until the caller leaves
    await hanging.firstData;
    const next = await openInOrder(m);
    await eventually(() => m.load().waiting === 1, 5_000);
    hanging.abort();

    const end = await next.ended;
    expect(end.done).toBe(true);
    expect(end.data).toHaveLength(CHUNKS + 1);
    expect(m.load()).toMatchObject({ active: 0, waiting: 0, started: 2 });
  });

  it('reports its counters at GET /_stats, without counting that request', async () => {
    model = await startFakeModel({ chunks: CHUNKS, delayMs: 0, maxConcurrent: 1, record: false });
    const end = await open(model).ended;
    expect(end.done).toBe(true);

    const res = await fetch(model.url.replace(/\/v1$/, '/_stats'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      requests: 1,
      completed: 1,
      aborted: 0,
      active: 0,
      waiting: 0,
      maxActive: 1,
      started: 1,
    });
  });
});
